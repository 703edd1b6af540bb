/**
 * /proc/self/mountinfo parsing (proc(5)). Mount points and roots are
 * octal-escaped by the kernel (`\040` space, `\011` tab, `\012` newline,
 * `\134` backslash); decodeMountPath turns them back into the real path.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';

export interface MountEntry {
  mountId: number;
  parentId: number;
  /** "MAJOR:MINOR" */
  dev: string;
  /** root of the mount within its filesystem (decoded) */
  root: string;
  /** mount point (decoded) */
  mountPoint: string;
  options: string;
  /** optional fields such as `shared:1`, `master:2` */
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string;
}

/** Replace every `\NNN` (three octal digits) with that byte; other text is kept as is. */
export function decodeMountPath(s: string): string {
  if (!s.includes('\\')) return s;
  const src = Buffer.from(s, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x5c && i + 3 < src.length && isOctal(src[i + 1]) && isOctal(src[i + 2]) && isOctal(src[i + 3])) {
      out.push(((src[i + 1]! - 0x30) << 6) | ((src[i + 2]! - 0x30) << 3) | (src[i + 3]! - 0x30));
      i += 3;
    } else {
      out.push(c);
    }
  }
  return Buffer.from(out).toString('utf8');
}

function isOctal(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x37;
}

/** Parse mountinfo text; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 10 || sep < 0 || sep + 3 > fields.length) continue;
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: fields[2]!,
      root: decodeMountPath(fields[3]!),
      mountPoint: decodeMountPath(fields[4]!),
      options: fields[5]!,
      optional: fields.slice(6, sep),
      fsType: fields[sep + 1]!,
      source: decodeMountPath(fields[sep + 2]!),
      superOptions: fields[sep + 3] ?? '',
    });
  }
  return entries;
}

export function readMountinfo(path = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(readFileSync(path, 'utf8'));
}

/** Canonical absolute form of dir (symlinks resolved when it exists), without trailing slash. */
export function canonicalDir(dir: string): string {
  let p = resolve(dir);
  try {
    p = realpathSync(p);
  } catch {
    /* keep the lexical form */
  }
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Mount points strictly under dir (dir itself excluded), as listed (duplicates kept once). */
export function mountsUnder(dir: string, entries: MountEntry[] = readMountinfo()): string[] {
  const base = canonicalDir(dir);
  const prefix = base === '/' ? '/' : `${base}/`;
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.mountPoint.startsWith(prefix) && e.mountPoint !== base) seen.add(e.mountPoint);
  }
  return [...seen];
}

/** True if path is itself a mount point. */
export function isMountPoint(path: string, entries: MountEntry[] = readMountinfo()): boolean {
  const p = canonicalDir(path);
  return entries.some((e) => e.mountPoint === p);
}

/** Kernel/virtual filesystems whose contents are never part of a root filesystem tree. */
export const PSEUDO_FS_TYPES: ReadonlySet<string> = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'pstore',
  'bpf', 'configfs', 'mqueue', 'hugetlbfs', 'fusectl', 'binfmt_misc', 'autofs', 'efivarfs', 'rpc_pipefs', 'nsfs',
]);

/**
 * Pseudo-filesystem mounts at dir or below it: canonical mount point -> fs type
 * (the topmost mount at a path wins, as it is the one visible).
 */
export function pseudoMountsAt(dir: string, entries: MountEntry[] = readMountinfo()): Map<string, string> {
  const base = canonicalDir(dir);
  const prefix = base === '/' ? '/' : `${base}/`;
  const top = new Map<string, string>();
  for (const e of entries) {
    if (e.mountPoint === base || e.mountPoint.startsWith(prefix)) top.set(e.mountPoint, e.fsType);
  }
  for (const [p, t] of top) if (!PSEUDO_FS_TYPES.has(t)) top.delete(p);
  return top;
}
