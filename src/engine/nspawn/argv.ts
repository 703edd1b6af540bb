/**
 * ContainerState -> what the per-instance drop-in runs (lifecycle.md §1.2, §3):
 * overlay mounts, the nspawn argv, unmounts and service directives. Pure.
 *
 * The container name is baked in literally (`--machine=NAME`): the template's
 * `%I` would un-escape `-` to `/` (case names-hyphens).
 */
import { layout } from '../catalogue/paths.js';
import { podNetnsPath } from '../catalogue/paths.js';
import { showName, validateName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';
import { assertUniquePorts, normalizePort } from '../network/ports.js';
import { normalizeCap } from '../security/caps.js';
import {
  parseEnv,
  validateApparmorProfile,
  validateBridgeName,
  validateLogLevel,
  validateSyscallFilter,
  validateZoneName,
} from '../security/validate.js';
import type { BindSpec, ContainerState } from '../types.js';

/**
 * First systemd version whose nspawn we trust with `--bind=...:idmap`. The
 * spec said 255; checked on 252 (kernel 6.18, ext4 source, --private-users=pick):
 * the bind is idmapped (host uid 0 is uid 0 inside, new files owned by host 0).
 * The source filesystem must support idmapped mounts (overlayfs does not:
 * nspawn fails with EINVAL), see security/bind-hosts.ts.
 */
export const IDMAP_BIND_MIN_SYSTEMD = 252;
/** Where an `--oci-pod` netns is bound inside the container. */
export const OCI_POD_NETNS_TARGET = '/run/sdme/oci-pod-netns';
const USERNS_DEFAULT_RANGE = 65536;

export interface NspawnBinaries {
  nspawn: string;
  mount: string;
  umount: string;
  nsenter: string;
}

export interface NspawnEnv {
  datadir: string;
  /** absolute paths, resolved from PATH at generation time */
  binaries: NspawnBinaries;
  /** host-clone submounts relative to `/` (e.g. `home`, `data/deep`) */
  hostSubmounts: readonly string[];
  systemdVersion: number;
  /** the `--pod` has DNS from an attached network (NET_DNS): nspawn must not touch resolv.conf */
  podDns?: boolean;
  /** bind host paths that are block/char devices (never idmapped) */
  hostDevices?: ReadonlySet<string>;
  /** host uid base of the user namespace sdme runs in (0 in the initial userns) */
  usernsBase?: number;
}

export interface ExecLine {
  argv: string[];
  /** `-` prefix: failure ignored */
  ignoreFailure: boolean;
}

export interface NspawnPlan {
  serviceDirectives: { key: string; value: string }[];
  execStartPre: ExecLine[];
  execStart: string[];
  execStopPost: ExecLine[];
  /** things skipped on the way (e.g. an unusable submount path), for ctx.note */
  notes: string[];
}

/** Refuse paths that overlayfs/mount option parsing would split or unescape. */
export function assertOverlayPath(p: string): string {
  // `,` separates options, `:` separates lowerdirs, `\` escapes both, `"` is quoting for libmount
  // eslint-disable-next-line no-control-regex
  if (/[,:\\"\x00-\x1f]/.test(p)) {
    throw new SdmeError(`path cannot be used in overlay mount options: ${showName(p)}`);
  }
  return p;
}

function overlayOptions(lower: string, upper: string, work: string): string {
  return `lowerdir=${assertOverlayPath(lower)},upperdir=${assertOverlayPath(upper)},workdir=${assertOverlayPath(work)}`;
}

/** nspawn's --bind parser splits on `:` and takes `\x` as a literal x (checked against 252). */
export function escapeBindPath(p: string): string {
  return p.replace(/[\\:]/g, (c) => `\\${c}`);
}

function checkBindPath(p: string, what: string): void {
  // eslint-disable-next-line no-control-regex
  if (!p.startsWith('/') || p.split('/').includes('..') || /[\x00-\x1f\x7f]/.test(p)) {
    throw new SdmeError(`invalid bind ${what} path in state: ${showName(p)}`);
  }
}

function bindArg(b: BindSpec, idmap: boolean): string {
  checkBindPath(b.host, 'host');
  checkBindPath(b.container, 'container');
  const flag = b.mode === 'ro' ? '--bind-ro' : '--bind';
  return `${flag}=${escapeBindPath(b.host)}:${escapeBindPath(b.container)}${idmap ? ':idmap' : ''}`;
}

function networkArgs(s: ContainerState, env: NspawnEnv): string[] {
  const a: string[] = [];
  if (s.privateNetwork && s.pod === undefined) a.push('--private-network');
  a.push(s.pod !== undefined && env.podDns ? '--resolv-conf=off' : '--resolv-conf=auto');
  if (s.networkVeth) a.push('--network-veth');
  if (s.networkBridge !== undefined) a.push(`--network-bridge=${validateBridgeName(s.networkBridge)}`);
  if (s.networkZone !== undefined) a.push(`--network-zone=${validateZoneName(s.networkZone)}`);
  assertUniquePorts(s.ports);
  for (const p of s.ports) a.push(`--port=${normalizePort(p)}`);
  return a;
}

function usernsArgs(s: ContainerState, env: NspawnEnv): string[] {
  if (!s.userns) return [];
  if (s.usernsShift === undefined) return ['--private-users=pick', '--private-users-ownership=auto'];
  const range = s.usernsRange ?? USERNS_DEFAULT_RANGE;
  const base = s.usernsShift - (env.usernsBase ?? 0);
  if (!Number.isInteger(base) || base < 0 || !Number.isInteger(range) || range <= 0 || range % 65536 !== 0) {
    throw new SdmeError(`invalid user namespace range in state of '${s.name}': ${s.usernsShift}:${range}`);
  }
  const ownership = range === USERNS_DEFAULT_RANGE ? 'auto' : s.storage === 'btrfs' ? 'map' : 'off';
  return [`--private-users=${base}:${range}`, `--private-users-ownership=${ownership}`];
}

function securityArgs(s: ContainerState, env: NspawnEnv): string[] {
  const a = usernsArgs(s, env);
  for (const c of s.dropCaps) a.push(`--drop-capability=${normalizeCap(c)}`);
  for (const c of s.addCaps) a.push(`--capability=${normalizeCap(c)}`);
  if (s.noNewPrivs) a.push('--no-new-privileges=yes');
  if (s.readOnly) a.push('--read-only');
  for (const f of s.syscallFilter) a.push(`--system-call-filter=${validateSyscallFilter(f)}`);
  return a;
}

/** Build the plan for one container. Throws SdmeError for state that cannot be expressed safely. */
export function buildNspawnPlan(s: ContainerState, env: NspawnEnv): NspawnPlan {
  validateName(s.name, 'container');
  if (s.storage !== undefined && s.storage !== '' && s.storage !== 'overlay') {
    throw new SdmeError(`container '${s.name}': storage '${showName(s.storage)}' is not supported`);
  }
  const L = layout(env.datadir);
  const bin = env.binaries;
  const notes: string[] = [];
  const merged = L.merged(s.name);

  // ---- mounts
  let lower = '/';
  if (s.rootfs !== '') {
    validateName(s.rootfs, 'rootfs');
    lower = L.fsPath(s.rootfs);
  }
  const execStartPre: ExecLine[] = [
    {
      argv: [bin.mount, '-t', 'overlay', 'overlay', '-o', overlayOptions(lower, L.upper(s.name), L.work(s.name)), merged],
      ignoreFailure: false,
    },
  ];
  const subs: string[] = [];
  if (s.rootfs === '') {
    const depth = (r: string) => r.split('/').length;
    const sorted = [...new Set(env.hostSubmounts.map((r) => r.replace(/^\/+|\/+$/g, '')))]
      .filter((r) => r !== '')
      .sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const rel of sorted) {
      const dir = L.submountDir(s.name, rel);
      let opts: string;
      try {
        if (rel.split('/').includes('..')) throw new SdmeError(`path cannot be used: /${rel}`);
        opts = overlayOptions(`/${rel}`, `${dir}/upper`, `${dir}/work`);
      } catch (e) {
        notes.push(`warning: host submount /${showName(rel)} skipped: ${(e as Error).message}`);
        continue;
      }
      subs.push(rel);
      execStartPre.push({ argv: [bin.mount, '-t', 'overlay', 'overlay', '-o', opts, `${merged}/${rel}`], ignoreFailure: true });
    }
  }
  const execStopPost: ExecLine[] = [
    ...[...subs].reverse().map((rel) => ({ argv: [bin.umount, `${merged}/${rel}`], ignoreFailure: true })),
    { argv: [bin.umount, merged], ignoreFailure: true },
  ];

  // ---- nspawn argv: network, binds, setenv, oci-pod bind, security
  const args: string[] = [...networkArgs(s, env)];
  if (s.userns && s.binds.some((b) => !env.hostDevices?.has(b.host)) && env.systemdVersion < IDMAP_BIND_MIN_SYSTEMD) {
    throw new SdmeError(
      `container '${s.name}': binds in a user namespace need idmapped bind mounts (systemd ${IDMAP_BIND_MIN_SYSTEMD} or later; this host has ${env.systemdVersion})`,
    );
  }
  for (const b of s.binds) args.push(bindArg(b, s.userns && !env.hostDevices?.has(b.host)));
  for (const e of s.envs) args.push(`--setenv=${parseEnv(e)}`);
  if (s.ociPod !== undefined) {
    validateName(s.ociPod, 'pod');
    args.push(`--bind-ro=${podNetnsPath(s.ociPod)}:${OCI_POD_NETNS_TARGET}`);
  }
  args.push(...securityArgs(s, env));

  const prefix: string[] = [];
  if (s.pod !== undefined) {
    validateName(s.pod, 'pod');
    prefix.push(bin.nsenter, `--net=${podNetnsPath(s.pod)}`, '--');
  }
  const execStart = [
    ...prefix,
    bin.nspawn,
    `--directory=${merged}`,
    `--machine=${s.name}`,
    '--keep-unit',
    ...args,
    '--boot',
  ];

  // ---- service directives (order: log level, AppArmor, restart)
  const serviceDirectives: { key: string; value: string }[] = [];
  if (s.systemdLogLevel !== undefined) {
    serviceDirectives.push({ key: 'Environment', value: `SYSTEMD_LOG_LEVEL=${validateLogLevel(s.systemdLogLevel)}` });
  }
  if (s.apparmorProfile !== undefined) {
    serviceDirectives.push({ key: 'AppArmorProfile', value: validateApparmorProfile(s.apparmorProfile) });
  }
  if (s.restartPolicy === 'on-failure') {
    serviceDirectives.push({ key: 'Restart', value: 'on-failure' });
    const sec = s.restartSec ?? 2;
    if (!Number.isInteger(sec) || sec < 0) throw new SdmeError(`invalid RESTART_SEC in state of '${s.name}': ${sec}`);
    serviceDirectives.push({ key: 'RestartSec', value: `${sec}s` });
  }

  return { serviceDirectives, execStartPre, execStart, execStopPost, notes };
}
