/**
 * cgroup readers for a container's unit: limits and usage, normalised across
 * cgroup v2 (unified) and v1 (legacy/hybrid) hierarchies.
 *
 * Hybrid hosts (this machine): v1 controllers under /sys/fs/cgroup/<ctl> plus
 * a controller-less cgroup2 at /sys/fs/cgroup/unified. A v1 controller counts
 * as "attached" to a unit only if the pid's path in that hierarchy reaches the
 * unit's cgroup; nested under another nspawn (the sandbox) the v1 controllers
 * are read-only and stay at `/`, so limits there are configured but not
 * enforced and we report them as such instead of the parent's numbers.
 *
 * Paths are resolved once per target and cached (the TUI samples every 1-2 s).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseMountinfo } from './mountinfo.js';

export interface ProcCgroupEntry {
  id: number;
  /** v1 controllers of the hierarchy (`name=systemd` included); [] for v2 */
  controllers: string[];
  path: string;
}

/** Parse /proc/PID/cgroup (`ID:CONTROLLERS:PATH` lines). */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    const ctl = line.slice(a + 1, b);
    out.push({ id: Number(line.slice(0, a)), controllers: ctl ? ctl.split(',') : [], path: line.slice(b + 1) });
  }
  return out;
}

export interface CgroupMount {
  mountPoint: string;
  /** root of the mount inside the hierarchy (non-`/` inside containers) */
  root: string;
}

export interface CgroupMounts {
  /** the cgroup2 mount (/sys/fs/cgroup on v2 hosts, /sys/fs/cgroup/unified on hybrid) */
  unified?: CgroupMount;
  /** v1 hierarchies by controller name (`cpu`, `cpuacct`, `memory`, `pids`, `name=systemd`, ...) */
  v1: Map<string, CgroupMount>;
}

const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio', 'devices', 'freezer', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc'];

/** cgroup mounts from mountinfo text (the first mount of each hierarchy wins). */
export function parseCgroupMounts(mountinfoText: string): CgroupMounts {
  const res: CgroupMounts = { v1: new Map() };
  for (const m of parseMountinfo(mountinfoText)) {
    if (m.fsType === 'cgroup2') {
      res.unified ??= { mountPoint: m.mountPoint, root: m.root };
    } else if (m.fsType === 'cgroup') {
      for (const opt of m.superOptions.split(',')) {
        if (V1_CONTROLLERS.includes(opt) || opt.startsWith('name=')) {
          if (!res.v1.has(opt)) res.v1.set(opt, { mountPoint: m.mountPoint, root: m.root });
        }
      }
    }
  }
  return res;
}

/** Directory of cgroup `path` under mount `m`, or undefined if the path is outside the mount's root. */
export function cgroupDirIn(m: CgroupMount, path: string): string | undefined {
  const root = m.root === '/' ? '' : m.root;
  if (root && path !== root && !path.startsWith(`${root}/`)) return undefined;
  const rel = path.slice(root.length);
  return rel === '' || rel === '/' ? m.mountPoint : posix.join(m.mountPoint, rel);
}

/**
 * The unit part of a cgroup path: everything up to the first component that
 * is not a `.slice` (`/machine.slice/sdme@a.service/payload/init.scope` ->
 * `/machine.slice/sdme@a.service`). Paths with no such component are returned as is.
 */
export function unitCgroupPath(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const i = parts.findIndex((p) => !p.endsWith('.slice'));
  return i < 0 ? path : `/${parts.slice(0, i + 1).join('/')}`;
}

/** Where each controller of one unit is read from. `undefined` = controller not attached to the unit. */
export interface ResolvedCgroup {
  /** unit cgroup path (relative to our cgroup namespace) */
  path: string;
  unifiedDir?: string;
  memory?: ControllerDir;
  cpu?: ControllerDir;
  /** v1 cpuacct dir for usage when cpu.stat is unavailable */
  cpuacctDir?: string;
  pids?: ControllerDir;
}

export interface ControllerDir {
  version: 1 | 2;
  dir: string;
  /** ancestor dirs below the hierarchy's mount point, nearest first (limits there apply too) */
  ancestors: string[];
}

function ancestorsOf(dir: string, mountPoint: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(dir); d.startsWith(`${mountPoint}/`); d = posix.dirname(d)) out.push(d);
  return out;
}

export interface CgroupEnv {
  /** prefix for absolute paths (tests point it at a fake tree); default '' */
  fsRoot?: string;
  procRoot?: string;
  /** mountinfo text to use instead of /proc/self/mountinfo */
  mountinfo?: string;
}

function fsPath(env: CgroupEnv, p: string): string {
  return env.fsRoot ? join(env.fsRoot, p) : p;
}

/**
 * Resolve the controller directories for a unit cgroup path.
 * `v1Paths` are the pid's own v1 paths (from /proc/PID/cgroup) when known;
 * otherwise the unit path is tried in each v1 hierarchy.
 */
export function resolveUnitCgroup(
  unitPath: string,
  mounts: CgroupMounts,
  env: CgroupEnv = {},
  v1Paths?: Map<string, string>,
): ResolvedCgroup {
  const res: ResolvedCgroup = { path: unitPath };
  const has = (dir: string | undefined, file: string) => dir !== undefined && existsSync(fsPath(env, posix.join(dir, file)));
  if (mounts.unified) {
    const d = cgroupDirIn(mounts.unified, unitPath);
    if (d && existsSync(fsPath(env, d))) res.unifiedDir = d;
  }
  const v1 = (ctl: string): ControllerDir | undefined => {
    const m = mounts.v1.get(ctl);
    if (!m) return undefined;
    // attached only if the pid (or the unit path) reaches the unit's cgroup in this hierarchy
    const p = v1Paths?.get(ctl);
    if (p !== undefined && p !== unitPath && !p.startsWith(`${unitPath}/`)) return undefined;
    const d = cgroupDirIn(m, unitPath);
    if (!d || d === m.mountPoint || !existsSync(fsPath(env, d))) return undefined;
    return { version: 1, dir: d, ancestors: ancestorsOf(d, m.mountPoint) };
  };
  const u = res.unifiedDir;
  const v2 = (file: string): ControllerDir | undefined =>
    has(u, file) ? { version: 2, dir: u!, ancestors: ancestorsOf(u!, mounts.unified!.mountPoint) } : undefined;
  res.memory = v2('memory.max') ?? v1('memory');
  res.cpu = v2('cpu.max') ?? v1('cpu');
  res.pids = v2('pids.max') ?? v1('pids');
  if (!has(u, 'cpu.stat')) res.cpuacctDir = v1('cpuacct')?.dir;
  return res;
}

export interface CgroupStats {
  /** unit cgroup path */
  path: string;
  /** bytes; null = unlimited or not enforced (see `enforced`) */
  memoryMax: number | null;
  /** bytes, null when unavailable */
  memoryCurrent: number | null;
  /** 50 = half a CPU; null = unlimited or not enforced */
  cpuQuotaPercent: number | null;
  /** 1-10000 (v1 shares converted as systemd does: weight = shares*100/1024); null when not enforced */
  cpuWeight: number | null;
  /** cumulative CPU time in microseconds, null when unavailable */
  cpuUsageUsec: number | null;
  pidsMax: number | null;
  pidsCurrent: number | null;
  /** which controllers actually apply to this unit (false = limits not enforced here) */
  enforced: { memory: boolean; cpu: boolean; pids: boolean };
  /** 'v2' unified, 'v1' legacy, 'hybrid' v1 controllers + cgroup2 */
  layout: 'v2' | 'v1' | 'hybrid';
}

/** v1 memory limits at or above this are "unlimited" (PAGE_COUNTER_MAX * page size). */
const V1_UNLIMITED = 2 ** 62;

function readText(env: CgroupEnv, dir: string, file: string): string | undefined {
  try {
    return readFileSync(fsPath(env, posix.join(dir, file)), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function num(v: string | undefined): number | null {
  if (v === undefined || !/^-?\d+$/.test(v)) return null;
  return Number(v);
}

/** `max 100000` -> null; `50000 100000` -> 50 */
export function parseCpuMax(text: string | undefined): number | null {
  const [q, p] = (text ?? '').split(/\s+/);
  if (!q || q === 'max') return null;
  const quota = Number(q);
  const period = Number(p ?? 100000);
  return period > 0 && Number.isFinite(quota) ? Math.round((quota / period) * 10000) / 100 : null;
}

/** `usage_usec` from a cpu.stat text. */
export function parseCpuStatUsage(text: string | undefined): number | null {
  const m = /^usage_usec\s+(\d+)$/m.exec(text ?? '');
  return m ? Number(m[1]) : null;
}

/** Read limits and usage from already resolved directories (no path lookups). */
export function readResolvedStats(r: ResolvedCgroup, mounts: CgroupMounts, env: CgroupEnv = {}): CgroupStats {
  const layout = mounts.v1.size === 0 ? 'v2' : mounts.unified ? 'hybrid' : 'v1';
  const s: CgroupStats = {
    path: r.path,
    memoryMax: null,
    memoryCurrent: null,
    cpuQuotaPercent: null,
    cpuWeight: null,
    cpuUsageUsec: null,
    pidsMax: null,
    pidsCurrent: null,
    enforced: { memory: !!r.memory, cpu: !!r.cpu, pids: !!r.pids },
    layout,
  };
  if (r.memory) {
    const m = r.memory;
    const limitAt = (dir: string): number | null => {
      if (m.version === 2) {
        const v = readText(env, dir, 'memory.max');
        return v === 'max' ? null : num(v);
      }
      const v = num(readText(env, dir, 'memory.limit_in_bytes'));
      return v === null || v >= V1_UNLIMITED ? null : v;
    };
    s.memoryMax = minLimit([m.dir, ...m.ancestors].map(limitAt));
    s.memoryCurrent = num(readText(env, m.dir, m.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'));
  }
  if (r.cpu) {
    const c = r.cpu;
    const quotaAt = (dir: string): number | null => {
      if (c.version === 2) return parseCpuMax(readText(env, dir, 'cpu.max'));
      const quota = num(readText(env, dir, 'cpu.cfs_quota_us'));
      const period = num(readText(env, dir, 'cpu.cfs_period_us'));
      return quota === null || quota < 0 || !period ? null : Math.round((quota / period) * 10000) / 100;
    };
    s.cpuQuotaPercent = minLimit([c.dir, ...c.ancestors].map(quotaAt));
  }
  if (r.cpu?.version === 2) {
    s.cpuWeight = num(readText(env, r.cpu.dir, 'cpu.weight'));
  } else if (r.cpu?.version === 1) {
    const shares = num(readText(env, r.cpu.dir, 'cpu.shares'));
    s.cpuWeight = shares === null ? null : Math.max(1, Math.min(10000, Math.round((shares * 100) / 1024)));
  }
  if (r.unifiedDir) s.cpuUsageUsec = parseCpuStatUsage(readText(env, r.unifiedDir, 'cpu.stat'));
  if (s.cpuUsageUsec === null && r.cpuacctDir) {
    const ns = num(readText(env, r.cpuacctDir, 'cpuacct.usage'));
    s.cpuUsageUsec = ns === null ? null : Math.floor(ns / 1000);
  }
  if (r.pids) {
    const p = r.pids;
    s.pidsMax = minLimit([p.dir, ...p.ancestors].map((d) => {
      const v = readText(env, d, 'pids.max');
      return v === 'max' ? null : num(v);
    }));
    s.pidsCurrent = num(readText(env, r.pids.dir, 'pids.current'));
  }
  return s;
}

/** Smallest non-null limit (null = unlimited everywhere). */
function minLimit(values: (number | null)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (v !== null && (best === null || v < best)) best = v;
  return best;
}

// ---- cached entry point -------------------------------------------------

let mountCache: { key: string; mounts: CgroupMounts } | undefined;
const resolvedCache = new Map<string, ResolvedCgroup>();

function getMounts(env: CgroupEnv): CgroupMounts {
  const key = `${env.fsRoot ?? ''}|${env.procRoot ?? ''}|${env.mountinfo ?? ''}`;
  if (mountCache?.key !== key) {
    const text = env.mountinfo ?? readFileSync(join(env.procRoot ?? '/proc', 'self', 'mountinfo'), 'utf8');
    mountCache = { key, mounts: parseCgroupMounts(text) };
  }
  return mountCache.mounts;
}

/** Forget cached mounts and resolved paths (tests; after a container restart the cache self-heals). */
export function clearCgroupCache(): void {
  mountCache = undefined;
  resolvedCache.clear();
}

/** Candidate cgroup paths of a unit, most likely first (sdme's template uses Slice=machine.slice). */
export function unitPathCandidates(unit: string): string[] {
  const at = unit.indexOf('@');
  const out = [`/machine.slice/${unit}`, `/system.slice/${unit}`];
  if (at > 0) out.push(`/system.slice/system-${unit.slice(0, at).replace(/-/g, '\\x2d')}.slice/${unit}`);
  return out;
}

/** Resolve (uncached) the unit cgroup of a leader pid. */
export function resolvePidCgroup(pid: number, env: CgroupEnv = {}): ResolvedCgroup | undefined {
  let text: string;
  try {
    text = readFileSync(join(env.procRoot ?? '/proc', String(pid), 'cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  const entries = parseProcCgroup(text);
  const mounts = getMounts(env);
  const v2 = entries.find((e) => e.id === 0 && e.controllers.length === 0);
  const named = entries.find((e) => e.controllers.includes('name=systemd'));
  const own = v2?.path && v2.path !== '/' ? v2.path : (named?.path ?? v2?.path);
  if (!own) return undefined;
  const v1Paths = new Map<string, string>();
  for (const e of entries) for (const c of e.controllers) v1Paths.set(c, e.path);
  return resolveUnitCgroup(unitCgroupPath(own), mounts, env, v1Paths);
}

/** Resolve (uncached) a unit's cgroup by name; undefined when the unit has no cgroup (not running). */
export function resolveUnitName(unit: string, env: CgroupEnv = {}): ResolvedCgroup | undefined {
  const mounts = getMounts(env);
  const track = mounts.unified ?? mounts.v1.get('name=systemd');
  if (!track) return undefined;
  for (const p of unitPathCandidates(unit)) {
    const d = cgroupDirIn(track, p);
    if (d && existsSync(fsPath(env, d))) return resolveUnitCgroup(p, mounts, env);
  }
  return undefined;
}

/**
 * Limits and usage of a container's unit, by unit name (`sdme@NAME.service`)
 * or by a pid inside it (the leader). Returns null when the cgroup is gone.
 * Cheap after the first call: paths are cached; a vanished cgroup drops its entry.
 */
export function readCgroupStats(target: string | number, env: CgroupEnv = {}): CgroupStats | null {
  const key = `${typeof target}:${target}|${env.fsRoot ?? ''}|${env.procRoot ?? ''}`;
  let r = resolvedCache.get(key);
  if (!r) {
    r = typeof target === 'number' ? resolvePidCgroup(target, env) : resolveUnitName(target, env);
    if (!r) return null;
    resolvedCache.set(key, r);
  }
  const mounts = getMounts(env);
  const alive = r.unifiedDir ?? r.memory?.dir ?? r.cpu?.dir;
  if (alive && !existsSync(fsPath(env, alive))) {
    resolvedCache.delete(key);
    return null;
  }
  return readResolvedStats(r, mounts, env);
}
