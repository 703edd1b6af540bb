/**
 * Shared engine types: the typed view of a container's state file and of a
 * `ps` row. The KEY=VALUE mapping lives in catalogue/container-state.ts (the
 * only writer of state keys).
 */

export interface BindSpec {
  host: string;
  container: string;
  mode: 'rw' | 'ro';
}

/** Typed view of `state/NAME` (upstream sdme 0.18 keys, see layout-and-state.md §3.1). */
export interface ContainerState {
  name: string;
  /** unix seconds */
  created: number;
  /** '' = host-rootfs clone (lowerdir `/`) */
  rootfs: string;
  storage?: string;
  memory?: string;
  cpus?: string;
  cpuWeight?: string;
  privateNetwork: boolean;
  networkVeth: boolean;
  networkBridge?: string;
  networkZone?: string;
  ports: string[];
  binds: BindSpec[];
  /** KEY=VALUE strings */
  envs: string[];
  opaqueDirs: string[];
  maskedServices: string[];
  pod?: string;
  ociPod?: string;
  ociApp?: string;
  ociVolumes: string[];
  userns: boolean;
  usernsShift?: number;
  usernsRange?: number;
  dropCaps: string[];
  addCaps: string[];
  noNewPrivs: boolean;
  readOnly: boolean;
  syscallFilter: string[];
  apparmorProfile?: string;
  systemdLogLevel?: string;
  restartPolicy?: 'on-failure';
  restartSec?: number;
  /** undefined = key absent; true/false = ENABLED=yes/no */
  enabled?: boolean;
  /** keys we do not model (kube, build, ...) preserved verbatim for upstream compatibility */
  extra: Record<string, string>;
}

export type ContainerStatus = 'running' | 'starting' | 'stopping' | 'stopped';

/** One row of `sdme ps` (JSON shape per lifecycle.md §13). */
export interface ContainerInfo {
  name: string;
  status: ContainerStatus;
  health: string;
  os: string;
  rootfs: string;
  userns: boolean;
  enabled: boolean;
  binds: string[];
  oci_apps: { name: string; env: string[]; ports: string[]; volumes: string[] }[];
  submounts: string[];
  network: {
    private_network: boolean;
    network_veth: boolean;
    network_bridge: string | null;
    network_zone: string | null;
    ports: string[];
    pod: string | null;
    oci_pod: string | null;
  };
  limits: { memory: string | null; cpus: string | null; cpu_weight: string | null; disk: string | null };
  disk_used: number | null;
  kube: { yaml_hash: string; has_probes: boolean } | null;
  addresses: string[];
}

/** Progress events for long operations (boot wait, import). CLI prints them, TUI shows a gauge. */
export type ProgressEvent =
  | { kind: 'phase'; message: string }
  | { kind: 'progress'; done: number; total?: number; message?: string }
  | { kind: 'note'; message: string };

export type ProgressFn = (ev: ProgressEvent) => void;
