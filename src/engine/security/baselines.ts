/**
 * What a default `docker run` and a default rootful `podman run` give a
 * container, for the rows of the isolation report. Data only; inspect.ts
 * compares a live container against it.
 *
 * Sources (checked 2026, current upstream defaults):
 * - Docker capabilities: moby/moby oci/caps/defaults.go DefaultCapabilities (14).
 * - Podman capabilities: containers/common pkg/config default_capabilities (11),
 *   reduced from the Docker list in containers/common PR #1240 (Nov 2022,
 *   Podman >= 4.4); distros had shipped the 11 in containers.conf since 2020 (PR #319).
 * - Namespaces: Docker runs pid/ipc/uts/mnt/net private, no userns unless the daemon
 *   sets userns-remap; cgroupns private on cgroup v2 and host on v1 (moby #38377,
 *   dockerd --default-cgroupns-mode). Podman: containers.conf pidns/utsns private,
 *   ipcns shareable (a private ns), userns host, cgroupns private on v2 / host on v1
 *   (containers/common pkg/config/default.go).
 * - seccomp: both apply their default profile (moby profiles/seccomp/default.json,
 *   /usr/share/containers/seccomp.json) => Seccomp mode 2; no_new_privs off unless
 *   `--security-opt no-new-privileges`.
 * - AppArmor (when enabled on the host): docker-default / containers-default-*.
 * - Limits: Docker sets none; Podman sets pids_limit 2048 (DefaultPidsLimit) and no
 *   memory/CPU limits. Neither mounts / read-only by default (--read-only).
 */
import type { NamespaceKind } from '../../native/procfs.js';

export type EngineName = 'docker' | 'podman';

export interface EngineBaseline {
  engine: EngineName;
  title: string;
  /** short provenance note shown with the report */
  source: string;
  /** true = the engine gives the container its own namespace of this kind by default */
  privateNamespaces: (cgroupV2: boolean) => Record<NamespaceKind, boolean>;
  /** bounding/effective set given to root in the container, CAP_ names */
  capabilities: readonly string[];
  noNewPrivs: boolean;
  /** Seccomp mode from /proc status: 2 = filter with the engine's default profile */
  seccompMode: number;
  seccompNote: string;
  /** AppArmor profile applied when AppArmor is enabled on the host */
  apparmorProfile: string;
  usernsByDefault: boolean;
  readOnlyRoot: boolean;
  network: string;
  memoryMax: number | null;
  cpuQuotaPercent: number | null;
  /** relative CPU weight (cgroup v2 scale; Docker/Podman leave the default 100 / 1024 shares) */
  cpuWeight: number;
  pidsMax: number | null;
  binds: string;
}

/** moby/moby oci/caps/defaults.go */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** containers/common pkg/config default_capabilities: Docker's minus MKNOD, NET_RAW, AUDIT_WRITE */
export const PODMAN_DEFAULT_CAPS: readonly string[] = DOCKER_DEFAULT_CAPS.filter(
  (c) => !['CAP_MKNOD', 'CAP_NET_RAW', 'CAP_AUDIT_WRITE'].includes(c),
);

function nsDefaults(cgroupV2: boolean): Record<NamespaceKind, boolean> {
  return { pid: true, ipc: true, uts: true, mnt: true, net: true, user: false, cgroup: cgroupV2 };
}

export const DOCKER_BASELINE: EngineBaseline = {
  engine: 'docker',
  title: 'Docker',
  source: 'docker run defaults (moby oci/caps/defaults.go, profiles/seccomp/default.json)',
  privateNamespaces: nsDefaults,
  capabilities: DOCKER_DEFAULT_CAPS,
  noNewPrivs: false,
  seccompMode: 2,
  seccompNote: 'moby profiles/seccomp/default.json (allow-list)',
  apparmorProfile: 'docker-default',
  usernsByDefault: false,
  readOnlyRoot: false,
  network: 'eth0 on docker0 bridge (NAT)',
  memoryMax: null,
  cpuQuotaPercent: null,
  cpuWeight: 100,
  pidsMax: null,
  binds: 'none',
};

export const PODMAN_BASELINE: EngineBaseline = {
  engine: 'podman',
  title: 'Podman',
  source: 'rootful podman run defaults (containers/common pkg/config, containers.conf)',
  privateNamespaces: nsDefaults,
  capabilities: PODMAN_DEFAULT_CAPS,
  noNewPrivs: false,
  seccompMode: 2,
  seccompNote: '/usr/share/containers/seccomp.json (derived from Docker profile)',
  apparmorProfile: 'containers-default',
  usernsByDefault: false,
  readOnlyRoot: false,
  network: 'eth0 on podman bridge 10.88.0.0/16 (NAT)',
  memoryMax: null,
  cpuQuotaPercent: null,
  cpuWeight: 100,
  pidsMax: 2048,
  binds: 'none',
};

export const BASELINES: Record<EngineName, EngineBaseline> = { docker: DOCKER_BASELINE, podman: PODMAN_BASELINE };
