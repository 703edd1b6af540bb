/**
 * Isolation report (`sdme inspect NAME`): read live from /proc of the
 * container's leader (never from the state file) and put beside the Docker
 * and Podman defaults. `inspectContainer` gathers facts; `buildRows` is pure;
 * `formatIsolationTable` renders the CLI table. The TUI uses the same object.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { readState, resolveName } from '../catalogue/container-state.js';
import { readCgroupStats, type CgroupStats } from '../../native/cgroup.js';
import { parseMountinfo } from '../../native/mountinfo.js';
import {
  NAMESPACE_KINDS,
  PROC,
  findBindMounts,
  isIdentityMap,
  isReadOnlyOptions,
  readIdMaps,
  readLsmLabel,
  readNamespaces,
  readNetInterfaces,
  readProcMounts,
  readProcStatus,
  rootMount,
  type BindMount,
  type IdMapRange,
  type NamespaceKind,
  type NetInterface,
} from '../../native/procfs.js';
import { SystemdClient } from '../systemd/dbus.js';
import { BASELINES, type EngineBaseline, type EngineName } from './baselines.js';
import { capMaskToNames, normalizeCap, NSPAWN_DEFAULT_CAPS } from './caps.js';

export { NSPAWN_DEFAULT_CAPS };

const decodeCapMask = (mask: bigint): string[] => capMaskToNames(mask.toString(16));

export type Verdict = 'stronger' | 'same' | 'weaker' | 'n/a';

export interface IsolationRow {
  key: string;
  label: string;
  /** this container, short */
  value: string;
  /** longer explanation (lists, diffs), '' when none */
  detail: string;
  docker: string;
  podman: string;
  /** this container compared with Docker's default */
  verdict: Verdict;
  /** this container compared with Podman's default */
  verdictPodman: Verdict;
}

export interface NamespaceFact {
  kind: NamespaceKind;
  inode: number | null;
  hostInode: number | null;
  /** null when either inode could not be read */
  private: boolean | null;
}

export interface IsolationReport {
  name: string;
  leaderPid: number;
  namespaces: NamespaceFact[];
  capabilities: {
    /** bounding set, CAP_ names in bit order */
    bounding: string[];
    count: number;
    effective: string[];
    /** vs nspawn's default 26 */
    addedVsNspawn: string[];
    removedVsNspawn: string[];
    /** nspawn defaults missing because the host's own bounding set lacks them */
    missingOnHost: string[];
  };
  noNewPrivs: boolean;
  seccomp: { mode: number | null; filters: number | null };
  /** LSM label of the leader (AppArmor profile), null when none is readable */
  lsm: string | null;
  apparmorEnabled: boolean;
  uidMap: IdMapRange[];
  gidMap: IdMapRange[];
  interfaces: NetInterface[];
  rootReadOnly: boolean | null;
  /** null when the cgroup could not be found */
  cgroup: CgroupStats | null;
  binds: BindMount[];
  hostCgroupV2: boolean;
  baselines: Record<EngineName, { title: string; source: string }>;
  rows: IsolationRow[];
}

export interface InspectDeps {
  /** leader pid of the running machine, null when not running (default: machined over D-Bus) */
  leaderPid?: (name: string) => Promise<number | null>;
  /** name resolution (default: resolveName on ctx.layout: exact, else unique prefix) */
  resolve?: (input: string) => Promise<string>;
  /** /proc to read (a fake tree in tests) */
  procRoot?: string;
  /** pid whose namespaces stand for "the host" (default 1 = init of our pid namespace) */
  hostPid?: number;
  readCgroup?: (leaderPid: number) => CgroupStats | null;
  netInterfaces?: (leaderPid: number) => Promise<NetInterface[]>;
  /** host runs a unified (v2) cgroup hierarchy; default: detected from /proc/self/mountinfo */
  hostCgroupV2?: boolean;
  /** AppArmor enabled on the host; default: /sys/module/apparmor/parameters/enabled */
  apparmorEnabled?: boolean;
  /** caps the container drops by its own settings (state DROP_CAPS); default: read from its state file */
  ownDrops?: readonly string[];
  /**
   * container paths of the host-clone submount overlays sdme itself mounts
   * (not binds); default: the dirs under containers/NAME/submounts
   */
  sdmeSubmounts?: readonly string[];
  /** the container's merged dir (its overlays show up as MERGED/REL on the host) */
  mergedDir?: string;
}

/** Leader pid from machined (`Machine.Leader` over D-Bus); null when the machine is not registered. */
export async function machinedLeader(name: string): Promise<number | null> {
  const client = await SystemdClient.connect();
  try {
    const pid = await client.machineLeader(name);
    return pid !== undefined && Number.isInteger(pid) && pid > 0 ? pid : null;
  } finally {
    client.close();
  }
}

export function detectHostCgroupV2(procRoot = PROC): boolean {
  try {
    return parseMountinfo(readFileSync(join(procRoot, 'self', 'mountinfo'), 'utf8')).some(
      (m) => m.mountPoint === '/sys/fs/cgroup' && m.fsType === 'cgroup2',
    );
  } catch {
    return false;
  }
}

function detectAppArmor(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

/** Gather the live facts for a running container and build its report. */
export async function inspectContainer(ctx: Pick<Ctx, 'layout'>, input: string, deps: InspectDeps = {}): Promise<IsolationReport> {
  const name = await (deps.resolve ?? ((n: string) => resolveName(ctx.layout, n)))(input);
  const pid = await (deps.leaderPid ?? machinedLeader)(name);
  if (pid === null) throw new SdmeError(`container '${name}' is not running`);
  const ownDrops =
    deps.ownDrops ??
    (await readState(ctx.layout, name).then(
      (s) => s.dropCaps.flatMap((c) => {
        try {
          return [normalizeCap(c)];
        } catch {
          return [];
        }
      }),
      () => [] as string[],
    ));
  const sdmeSubmounts = deps.sdmeSubmounts ?? (await listSubmountTargets(ctx.layout.containerDir(name)));
  return collectReport(name, pid, { ...deps, ownDrops, sdmeSubmounts, mergedDir: deps.mergedDir ?? ctx.layout.merged(name) });
}

/**
 * Container paths of the submount overlays sdme prepared for a host clone:
 * every dir under `CONTAINER/submounts` holding both `upper` and `work`
 * (start.ts prepareSubmounts), e.g. `submounts/work/main` -> `/work/main`.
 */
export async function listSubmountTargets(containerDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const dirs = names.filter((e) => e.isDirectory()).map((e) => e.name);
    if (rel !== '' && dirs.includes('upper') && dirs.includes('work')) out.push(rel);
    if (depth >= 16) return;
    for (const d of dirs) {
      if (rel !== '' && (d === 'upper' || d === 'work')) continue;
      await walk(join(dir, d), `${rel}/${d}`, depth + 1);
    }
  };
  await walk(join(containerDir, 'submounts'), '', 0);
  return out.sort();
}

/**
 * Binds as the user would call them: the overlays sdme mounts over a host
 * clone's submounts (an overlay at a known submount path, or whose host side
 * is MERGED/REL for the same REL) are part of the root, not binds.
 */
export function userBinds(binds: readonly BindMount[], sdmeSubmounts: readonly string[], mergedDir?: string): BindMount[] {
  const subs = new Set(sdmeSubmounts);
  return binds.filter(
    (b) => !(b.fsType === 'overlay' && (subs.has(b.target) || (mergedDir !== undefined && b.source === `${mergedDir}${b.target}`))),
  );
}

/** Read everything about leader `pid` (exported for tests that have a pid but no container). */
export async function collectReport(name: string, pid: number, deps: InspectDeps = {}): Promise<IsolationReport> {
  const procRoot = deps.procRoot ?? PROC;
  let status;
  try {
    status = readProcStatus(pid, procRoot);
  } catch {
    throw new SdmeError(`container '${name}' is not running (leader ${pid} is gone)`);
  }
  const hostPid = deps.hostPid ?? 1;
  const mine = readNamespaces(pid, procRoot);
  const host = readNamespaces(hostPid, procRoot);
  const namespaces: NamespaceFact[] = NAMESPACE_KINDS.map((kind) => ({
    kind,
    inode: mine[kind],
    hostInode: host[kind],
    private: mine[kind] === null || host[kind] === null ? null : mine[kind] !== host[kind],
  }));

  const bounding = decodeCapMask(status.capBnd);
  let hostBounding: Set<string> | undefined;
  try {
    hostBounding = new Set(decodeCapMask(readProcStatus(hostPid, procRoot).capBnd));
  } catch {
    hostBounding = undefined;
  }
  const removed = NSPAWN_DEFAULT_CAPS.filter((c) => !bounding.includes(c));
  const ownDrops = new Set(deps.ownDrops ?? []);

  let maps: { uid: IdMapRange[]; gid: IdMapRange[] } = { uid: [], gid: [] };
  try {
    maps = readIdMaps(pid, procRoot);
  } catch {
    /* leave empty */
  }
  let rootReadOnly: boolean | null = null;
  let binds: BindMount[] = [];
  try {
    const mounts = readProcMounts(pid, procRoot);
    const root = rootMount(mounts);
    rootReadOnly = root ? isReadOnlyOptions(root.options) : null;
    let hostMounts: ReturnType<typeof readProcMounts> = [];
    try {
      hostMounts = readProcMounts('self', procRoot);
    } catch {
      /* host paths unresolved */
    }
    binds = userBinds(findBindMounts(mounts, hostMounts), deps.sdmeSubmounts ?? [], deps.mergedDir);
  } catch {
    /* mountinfo unreadable */
  }
  const interfaces = await (deps.netInterfaces ?? ((p: number) => readNetInterfaces(p, procRoot)))(pid);
  const cgroup = (deps.readCgroup ?? ((p: number) => readCgroupStats(p, { procRoot: deps.procRoot })))(pid);

  const facts: Omit<IsolationReport, 'rows'> = {
    name,
    leaderPid: pid,
    namespaces,
    capabilities: {
      bounding,
      count: bounding.length,
      effective: decodeCapMask(status.capEff),
      addedVsNspawn: bounding.filter((c) => !NSPAWN_DEFAULT_CAPS.includes(c)),
      removedVsNspawn: removed,
      // dropped by the container's own settings (e.g. --strict) is not "missing on the host"
      missingOnHost: hostBounding ? removed.filter((c) => !hostBounding.has(c) && !ownDrops.has(c)) : [],
    },
    noNewPrivs: status.noNewPrivs,
    seccomp: { mode: status.seccomp, filters: status.seccompFilters },
    lsm: readLsmLabel(pid, procRoot),
    apparmorEnabled: deps.apparmorEnabled ?? detectAppArmor(),
    uidMap: maps.uid,
    gidMap: maps.gid,
    interfaces,
    rootReadOnly,
    cgroup,
    binds,
    hostCgroupV2: deps.hostCgroupV2 ?? detectHostCgroupV2(procRoot),
    baselines: {
      docker: { title: BASELINES.docker.title, source: BASELINES.docker.source },
      podman: { title: BASELINES.podman.title, source: BASELINES.podman.source },
    },
  };
  return { ...facts, rows: buildRows(facts) };
}

// ---- comparisons (pure) --------------------------------------------------

/** true beats false */
export function compareFlag(mine: boolean, base: boolean): Verdict {
  return mine === base ? 'same' : mine ? 'stronger' : 'weaker';
}

/** Limits where null = unlimited: any limit beats none, a smaller limit beats a larger one. */
export function compareLimit(mine: number | null, base: number | null): Verdict {
  if (mine === base) return 'same';
  if (mine === null) return 'weaker';
  if (base === null) return 'stronger';
  return mine < base ? 'stronger' : 'weaker';
}

/** Capability sets: any cap the baseline lacks makes this weaker; a strict subset is stronger. */
export function compareCaps(mine: readonly string[], base: readonly string[]): Verdict {
  const extra = mine.filter((c) => !base.includes(c));
  const missing = base.filter((c) => !mine.includes(c));
  if (extra.length > 0) return 'weaker';
  return missing.length > 0 ? 'stronger' : 'same';
}

const short = (c: string) => c.replace(/^CAP_/, '');

function capDiff(mine: readonly string[], base: readonly string[]): string {
  const plus = mine.filter((c) => !base.includes(c)).map((c) => `+${short(c)}`);
  const minus = base.filter((c) => !mine.includes(c)).map((c) => `-${short(c)}`);
  return [...plus, ...minus].join(' ') || 'identical';
}

export function formatBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1 && Number.isInteger(v / 1024)) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}

function formatIdMap(map: IdMapRange[]): string {
  if (map.length === 0) return 'unknown';
  if (isIdentityMap(map)) return 'identity (host ids)';
  return map.map((r) => `${r.inside}->${r.outside} (${r.count})`).join(', ');
}

const NS_LABELS: Record<NamespaceKind, string> = {
  pid: 'PID namespace',
  ipc: 'IPC namespace',
  uts: 'UTS namespace',
  mnt: 'mount namespace',
  net: 'network namespace',
  user: 'user namespace',
  cgroup: 'cgroup namespace',
};

type Facts = Omit<IsolationReport, 'rows'>;

/** The report rows for a set of facts (pure; the order is the display order). */
export function buildRows(f: Facts): IsolationRow[] {
  const rows: IsolationRow[] = [];
  const both = (
    key: string,
    label: string,
    value: string,
    detail: string,
    cell: (b: EngineBaseline) => string,
    verdict: (b: EngineBaseline) => Verdict,
  ) =>
    rows.push({
      key,
      label,
      value,
      detail,
      docker: cell(BASELINES.docker),
      podman: cell(BASELINES.podman),
      verdict: verdict(BASELINES.docker),
      verdictPodman: verdict(BASELINES.podman),
    });

  for (const ns of f.namespaces) {
    const v = ns.private === null ? 'unknown' : ns.private ? 'private' : 'host';
    both(
      `ns.${ns.kind}`,
      NS_LABELS[ns.kind],
      v,
      ns.private === null ? 'could not read /proc/PID/ns links' : '',
      (b) => (b.privateNamespaces(f.hostCgroupV2)[ns.kind] ? 'private' : 'host'),
      (b) => (ns.private === null ? 'n/a' : compareFlag(ns.private, b.privateNamespaces(f.hostCgroupV2)[ns.kind])),
    );
  }

  const c = f.capabilities;
  const nspawnNote =
    `vs nspawn default 26: ${capDiff(c.bounding, NSPAWN_DEFAULT_CAPS)}` +
    (c.missingOnHost.length ? ` (${c.missingOnHost.map(short).join(', ')} absent from the host's own bounding set)` : '');
  const usernsNote = f.namespaces.find((n) => n.kind === 'user')?.private ? '; caps are confined to the container user namespace' : '';
  both(
    'caps',
    'capabilities (bounding)',
    `${c.count} caps`,
    `${nspawnNote}; vs Docker: ${capDiff(c.bounding, BASELINES.docker.capabilities)}; vs Podman: ${capDiff(c.bounding, BASELINES.podman.capabilities)}${usernsNote}`,
    (b) => `${b.capabilities.length} caps`,
    (b) => compareCaps(c.bounding, b.capabilities),
  );

  both('nnp', 'NoNewPrivs', f.noNewPrivs ? '1' : '0', '', (b) => (b.noNewPrivs ? '1' : '0'), (b) => compareFlag(f.noNewPrivs, b.noNewPrivs));

  const mode = f.seccomp.mode;
  const seccompText = mode === null ? 'unknown' : mode === 2 ? `filter (${f.seccomp.filters ?? '?'} filters)` : mode === 1 ? 'strict' : 'disabled';
  both(
    'seccomp',
    'seccomp',
    seccompText,
    mode === 2 ? 'nspawn allow-list (+ --system-call-filter); the profiles differ, only the mode is compared' : '',
    () => 'filter (default profile)',
    (b) => (mode === null ? 'n/a' : mode === b.seccompMode ? 'same' : mode === 0 ? 'weaker' : 'stronger'),
  );

  const confined = f.lsm !== null && f.lsm !== 'unconfined' && !f.lsm.startsWith('unconfined');
  both(
    'apparmor',
    'AppArmor',
    f.lsm ?? 'none',
    f.apparmorEnabled ? '' : 'AppArmor is not enabled on this host',
    (b) => (f.apparmorEnabled ? b.apparmorProfile : 'none (AppArmor off)'),
    () => (f.apparmorEnabled ? (confined ? 'same' : 'weaker') : 'n/a'),
  );

  const mapped = f.uidMap.length > 0 && !isIdentityMap(f.uidMap);
  both(
    'uidmap',
    'uid map',
    formatIdMap(f.uidMap),
    f.gidMap.length ? `gid map: ${formatIdMap(f.gidMap)}` : '',
    (b) => (b.usernsByDefault ? 'remapped' : 'identity (host ids)'),
    (b) => (f.uidMap.length === 0 ? 'n/a' : compareFlag(mapped, b.usernsByDefault)),
  );

  const netPrivate = f.namespaces.find((n) => n.kind === 'net')?.private;
  const ifNames = f.interfaces.map((i) => i.name);
  const loOnly = ifNames.length > 0 && ifNames.every((n) => n === 'lo');
  both(
    'net',
    'network interfaces',
    netPrivate === false ? `host network (${ifNames.length} interfaces)` : ifNames.join(', ') || 'none',
    f.interfaces
      .filter((i) => i.addresses.length)
      .map((i) => `${i.name}: ${i.addresses.join(' ')}`)
      .join('; '),
    (b) => b.network,
    () => (netPrivate === false ? 'weaker' : netPrivate === null || netPrivate === undefined ? 'n/a' : loOnly ? 'stronger' : 'same'),
  );

  both(
    'rootfs',
    'root filesystem',
    f.rootReadOnly === null ? 'unknown' : f.rootReadOnly ? 'read-only' : 'read-write',
    '',
    (b) => (b.readOnlyRoot ? 'read-only' : 'read-write'),
    (b) => (f.rootReadOnly === null ? 'n/a' : compareFlag(f.rootReadOnly, b.readOnlyRoot)),
  );

  const cg = f.cgroup;
  const notEnforced = (ctl: string) =>
    `${ctl} controller not attached to ${cg?.path ?? 'the unit'} (${cg?.layout ?? 'unknown'} cgroups): a configured limit is not enforced here`;
  both(
    'memory.max',
    'memory.max',
    !cg ? 'unknown' : !cg.enforced.memory ? 'not enforced' : cg.memoryMax === null ? 'unlimited' : formatBytes(cg.memoryMax),
    cg && !cg.enforced.memory ? notEnforced('memory') : cg?.memoryCurrent != null ? `current ${formatBytes(cg.memoryCurrent)}` : '',
    (b) => (b.memoryMax === null ? 'unlimited' : formatBytes(b.memoryMax)),
    (b) => (!cg ? 'n/a' : compareLimit(cg.enforced.memory ? cg.memoryMax : null, b.memoryMax)),
  );
  both(
    'cpu.max',
    'cpu.max',
    !cg ? 'unknown' : !cg.enforced.cpu ? 'not enforced' : cg.cpuQuotaPercent === null ? 'unlimited' : `${cg.cpuQuotaPercent}%`,
    cg && !cg.enforced.cpu ? notEnforced('cpu') : '',
    (b) => (b.cpuQuotaPercent === null ? 'unlimited' : `${b.cpuQuotaPercent}%`),
    (b) => (!cg ? 'n/a' : compareLimit(cg.enforced.cpu ? cg.cpuQuotaPercent : null, b.cpuQuotaPercent)),
  );
  both(
    'cpu.weight',
    'cpu.weight',
    !cg || !cg.enforced.cpu || cg.cpuWeight === null ? 'n/a' : String(cg.cpuWeight),
    'relative share under contention, not a limit',
    (b) => String(b.cpuWeight),
    () => 'n/a',
  );
  both(
    'pids.max',
    'pids.max',
    !cg ? 'unknown' : !cg.enforced.pids ? 'not enforced' : cg.pidsMax === null ? 'unlimited' : String(cg.pidsMax),
    cg && !cg.enforced.pids ? notEnforced('pids') : cg?.pidsCurrent != null ? `current ${cg.pidsCurrent}` : '',
    (b) => (b.pidsMax === null ? 'unlimited' : String(b.pidsMax)),
    (b) => (!cg ? 'n/a' : compareLimit(cg.enforced.pids ? cg.pidsMax : null, b.pidsMax)),
  );

  both(
    'binds',
    'binds',
    f.binds.length === 0 ? 'none' : `${f.binds.length} (${f.binds.filter((b) => b.mode === 'rw').length} rw)`,
    f.binds.map((b) => `${b.source}:${b.target}:${b.mode}`).join(', '),
    (b) => b.binds,
    () => 'n/a',
  );
  return rows;
}

// ---- CLI table ---------------------------------------------------------

const MARK: Record<Verdict, string> = { stronger: 'stronger', same: 'same', weaker: 'WEAKER', 'n/a': '-' };

/**
 * Plain-text table: ROW / THIS CONTAINER / DOCKER / PODMAN / VS DOCKER,PODMAN,
 * with each row's detail below it (one indented line per `; `-separated part).
 */
export function formatIsolationTable(report: IsolationReport): string {
  const head = ['ROW', 'THIS CONTAINER', 'DOCKER', 'PODMAN', 'VS DOCKER/PODMAN'];
  const body = report.rows.map((r) => [r.label, r.value, r.docker, r.podman, `${MARK[r.verdict]}/${MARK[r.verdictPodman]}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const out = [`${report.name} (leader ${report.leaderPid})`, line(head)];
  report.rows.forEach((r, i) => {
    out.push(line(body[i]!));
    for (const part of r.detail ? r.detail.split('; ') : []) out.push(`    ${part}`);
  });
  return `${out.join('\n')}\n`;
}
