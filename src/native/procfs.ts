/**
 * Readers for /proc/PID files used by the isolation report (proc(5)).
 * Every reader takes an optional procRoot so tests can point it at a fake
 * tree; parsing is split from reading so the parsers are pure.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo, type MountEntry } from './mountinfo.js';
import { run, which } from './run.js';

export const PROC = '/proc';

/** The namespaces the report compares (time is read too when present). */
export const NAMESPACE_KINDS = ['pid', 'ipc', 'uts', 'mnt', 'net', 'user', 'cgroup'] as const;
export type NamespaceKind = (typeof NAMESPACE_KINDS)[number];

export interface ProcStatus {
  name: string;
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  capAmb: bigint;
  noNewPrivs: boolean;
  /** 0 disabled, 1 strict, 2 filter; null when the kernel has no seccomp line */
  seccomp: number | null;
  /** number of attached filters (kernel >= 5.9), null when not reported */
  seccompFilters: number | null;
  /** PID in each nested pid namespace, outermost first */
  nspid: number[];
  /** real, effective, saved, fs uid */
  uid: number[];
}

function hexMask(v: string | undefined): bigint {
  if (v === undefined || !/^[0-9a-fA-F]+$/.test(v)) return 0n;
  return BigInt(`0x${v}`);
}

function intOrNull(v: string | undefined): number | null {
  if (v === undefined || !/^-?\d+$/.test(v)) return null;
  return Number(v);
}

/** Parse the text of /proc/PID/status. Missing fields become 0 / null / []. */
export function parseProcStatus(text: string): ProcStatus {
  const f = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) f.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  const ints = (k: string) =>
    (f.get(k) ?? '')
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  return {
    name: f.get('Name') ?? '',
    capInh: hexMask(f.get('CapInh')),
    capPrm: hexMask(f.get('CapPrm')),
    capEff: hexMask(f.get('CapEff')),
    capBnd: hexMask(f.get('CapBnd')),
    capAmb: hexMask(f.get('CapAmb')),
    noNewPrivs: f.get('NoNewPrivs') === '1',
    seccomp: intOrNull(f.get('Seccomp')),
    seccompFilters: intOrNull(f.get('Seccomp_filters')),
    nspid: ints('NSpid'),
    uid: ints('Uid'),
  };
}

export function readProcStatus(pid: number | 'self', procRoot = PROC): ProcStatus {
  return parseProcStatus(readFileSync(join(procRoot, String(pid), 'status'), 'utf8'));
}

/** `net:[4026531840]` -> { type: 'net', inode: 4026531840 }; anything else -> null. */
export function parseNsLink(link: string): { type: string; inode: number } | null {
  const m = /^([a-z_]+):\[(\d+)\]$/.exec(link.trim());
  return m ? { type: m[1]!, inode: Number(m[2]) } : null;
}

/** Inode of /proc/PID/ns/KIND, or null when the link cannot be read. */
export function readNsInode(pid: number | 'self', kind: string, procRoot = PROC): number | null {
  try {
    return parseNsLink(readlinkSync(join(procRoot, String(pid), 'ns', kind)))?.inode ?? null;
  } catch {
    return null;
  }
}

export function readNamespaces(pid: number | 'self', procRoot = PROC): Record<NamespaceKind, number | null> {
  const out = {} as Record<NamespaceKind, number | null>;
  for (const k of NAMESPACE_KINDS) out[k] = readNsInode(pid, k, procRoot);
  return out;
}

export interface IdMapRange {
  /** first id inside the namespace */
  inside: number;
  /** first id outside (in the parent namespace) */
  outside: number;
  count: number;
}

/** Parse uid_map / gid_map text (`inside outside count` per line). */
export function parseIdMap(text: string): IdMapRange[] {
  const out: IdMapRange[] = [];
  for (const line of text.split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length !== 3 || !p.every((s) => /^\d+$/.test(s))) continue;
    out.push({ inside: Number(p[0]), outside: Number(p[1]), count: Number(p[2]) });
  }
  return out;
}

/** The map of the initial user namespace: every id maps to itself. */
export function isIdentityMap(map: IdMapRange[]): boolean {
  return map.length === 1 && map[0]!.inside === 0 && map[0]!.outside === 0 && map[0]!.count === 4294967295;
}

export function readIdMaps(pid: number | 'self', procRoot = PROC): { uid: IdMapRange[]; gid: IdMapRange[] } {
  const base = join(procRoot, String(pid));
  return {
    uid: parseIdMap(readFileSync(join(base, 'uid_map'), 'utf8')),
    gid: parseIdMap(readFileSync(join(base, 'gid_map'), 'utf8')),
  };
}

/** Interface names from /proc/PID/net/dev (the netns of PID), in file order. */
export function parseNetDev(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i > 0) out.push(line.slice(0, i).trim());
  }
  return out;
}

export function readNetDevNames(pid: number | 'self', procRoot = PROC): string[] {
  return parseNetDev(readFileSync(join(procRoot, String(pid), 'net', 'dev'), 'utf8'));
}

export interface NetInterface {
  name: string;
  /** "10.0.0.2/24", "fe80::1/64"; empty when unknown */
  addresses: string[];
  state?: string;
}

/** Parse `ip -j addr` output. */
export function parseIpAddrJson(json: string): NetInterface[] {
  const data = JSON.parse(json) as { ifname?: string; operstate?: string; addr_info?: { local?: string; prefixlen?: number }[] }[];
  return data
    .filter((d) => typeof d.ifname === 'string')
    .map((d) => ({
      name: d.ifname!,
      state: d.operstate,
      addresses: (d.addr_info ?? []).filter((a) => a.local).map((a) => `${a.local}/${a.prefixlen}`),
    }));
}

/**
 * Interfaces of PID's network namespace with their addresses
 * (`nsenter -t PID -n ip -j addr`). Falls back to names from /proc/PID/net/dev
 * when nsenter/ip are missing or fail.
 */
export async function readNetInterfaces(pid: number, procRoot = PROC): Promise<NetInterface[]> {
  const names = readNetDevNames(pid, procRoot);
  const nsenter = procRoot === PROC ? which('nsenter') : undefined;
  const ip = which('ip');
  if (nsenter && ip) {
    const r = await run(nsenter, ['-t', String(pid), '-n', ip, '-j', 'addr', 'show'], { timeoutMs: 10_000 });
    if (r.exitCode === 0) {
      try {
        return parseIpAddrJson(r.stdout);
      } catch {
        /* fall through to names only */
      }
    }
  }
  return names.map((name) => ({ name, addresses: [] }));
}

export function readProcMounts(pid: number | 'self', procRoot = PROC): MountEntry[] {
  return parseMountinfo(readFileSync(join(procRoot, String(pid), 'mountinfo'), 'utf8'));
}

/** True if a comma-separated per-mount option list contains `ro`. */
export function isReadOnlyOptions(options: string): boolean {
  return options.split(',').includes('ro');
}

/** The mount that is `/` for the process: the last (topmost) entry at `/`. */
export function rootMount(mounts: MountEntry[]): MountEntry | undefined {
  let root: MountEntry | undefined;
  for (const m of mounts) if (m.mountPoint === '/') root = m;
  return root;
}

/** Filesystem types that never come from a user's bind. */
const PSEUDO_FS = new Set([
  'proc', 'sysfs', 'tmpfs', 'devtmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'securityfs', 'debugfs',
  'tracefs', 'bpf', 'fusectl', 'configfs', 'pstore', 'hugetlbfs', 'binfmt_misc', 'autofs', 'efivarfs',
  'ramfs', 'rpc_pipefs', 'nsfs', 'selinuxfs',
]);

/** Mount points nspawn (or the kernel API setup) creates itself. */
const INTERNAL_PREFIXES = ['/proc', '/sys', '/dev', '/run/host', '/run/systemd/nspawn'];

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

export interface BindMount {
  /** mount point inside the container */
  target: string;
  /** host path when it could be resolved from the host's mountinfo, else `<dev>:<root>` */
  source: string;
  mode: 'ro' | 'rw';
  fsType: string;
}

/**
 * Bind mounts visible in a container's mountinfo: entries that are not `/`,
 * not a pseudo filesystem and not under nspawn's own API mount points.
 * `hostMounts` (the host's mountinfo) maps dev + root back to a host path.
 */
export function findBindMounts(containerMounts: MountEntry[], hostMounts: MountEntry[] = []): BindMount[] {
  const out: BindMount[] = [];
  const seen = new Set<string>();
  for (const m of containerMounts) {
    if (m.mountPoint === '/' || PSEUDO_FS.has(m.fsType)) continue;
    if (INTERNAL_PREFIXES.some((p) => under(m.mountPoint, p))) continue;
    const key = m.mountPoint;
    const entry: BindMount = {
      target: m.mountPoint,
      source: hostPathOf(m, hostMounts) ?? `${m.dev}:${m.root}`,
      mode: isReadOnlyOptions(m.options) ? 'ro' : 'rw',
      fsType: m.fsType,
    };
    // later entries at the same mount point stack on top of earlier ones
    if (seen.has(key)) out.splice(out.findIndex((b) => b.target === key), 1);
    seen.add(key);
    out.push(entry);
  }
  return out;
}

/** Host path of a mount's root: a host mount of the same device whose root is a prefix of it. */
export function hostPathOf(m: MountEntry, hostMounts: MountEntry[]): string | undefined {
  let best: MountEntry | undefined;
  for (const h of hostMounts) {
    if (h.dev !== m.dev) continue;
    if (h.root !== '/' && !under(m.root, h.root)) continue;
    // prefer the longest root match, then the shortest mount point
    if (!best || h.root.length > best.root.length || (h.root.length === best.root.length && h.mountPoint.length < best.mountPoint.length)) {
      best = h;
    }
  }
  if (!best) return undefined;
  const rest = best.root === '/' ? m.root : m.root.slice(best.root.length);
  const joined = best.mountPoint === '/' ? rest : `${best.mountPoint}${rest === '/' ? '' : rest}`;
  return joined === '' ? '/' : joined;
}

/** AppArmor (or other LSM) label of PID, null when unavailable. */
export function readLsmLabel(pid: number | 'self', procRoot = PROC): string | null {
  for (const rel of ['attr/apparmor/current', 'attr/current']) {
    try {
      const v = readFileSync(join(procRoot, String(pid), rel), 'utf8').replace(/\0/g, '').trim();
      if (v) return v;
    } catch {
      /* try next */
    }
  }
  return null;
}

