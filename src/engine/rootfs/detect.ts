/**
 * What is inside a root filesystem (import-and-oci.md §3): os-release,
 * distro family, systemd and dbus presence. Paths are resolved as if the
 * root were `/` (symlinks, even absolute ones, never leave the root).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';

export type DistroFamily = 'debian' | 'fedora' | 'arch' | 'suse' | 'nixos' | 'unknown';

export interface OsInfo {
  /** PRETTY_NAME, else NAME, else '' */
  prettyName: string;
  id: string;
  idLike: string[];
  family: DistroFamily;
  hasSystemd: boolean;
  hasDbus: boolean;
}

/**
 * Resolves `rel` inside `root` like a chroot would: `..` stops at the root,
 * absolute symlink targets restart at the root. Returns the host path or
 * undefined when a component is missing or too many links are followed.
 */
export function resolveInRoot(root: string, rel: string, followLast = true): string | undefined {
  let pending = rel.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const p = join(root, ...done, c);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink() && (pending.length > 0 || followLast)) {
      if (++hops > 40) return undefined;
      const target = fs.readlinkSync(p);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...pending];
      continue;
    }
    done.push(c);
  }
  return join(root, ...done);
}

function existsIn(root: string, rel: string): boolean {
  const p = resolveInRoot(root, rel);
  if (p === undefined) return false;
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Parses os-release text: KEY=VALUE with optional single/double quotes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
      v = v.slice(1, -1);
      if (line[eq + 1] === '"') v = v.replace(/\\(["\\$`])/g, '$1');
    }
    out[line.slice(0, eq)] = v;
  }
  return out;
}

export function familyOf(id: string, idLike: string[]): DistroFamily {
  const all = [id, ...idLike];
  if (id === 'nixos') return 'nixos';
  if (all.some((x) => x === 'debian' || x === 'ubuntu')) return 'debian';
  if (all.some((x) => ['fedora', 'centos', 'almalinux', 'rhel', 'rocky'].includes(x))) return 'fedora';
  if (all.includes('arch')) return 'arch';
  if (all.some((x) => x.startsWith('opensuse') || x === 'sles' || x === 'sled' || x === 'suse')) return 'suse';
  return 'unknown';
}

const SYSTEMD_PATHS = ['usr/bin/systemd', 'usr/lib/systemd/systemd', 'lib/systemd/systemd'];
const DBUS_PATHS = [
  'usr/bin/dbus-daemon',
  'usr/bin/dbus-broker',
  'usr/lib/dbus-1/dbus-daemon-launch-helper',
  'usr/lib/dbus-daemon-launch-helper',
];

function nixStoreHas(root: string, rels: string[]): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(join(root, 'nix/store'));
  } catch {
    return false;
  }
  return entries.some((e) => rels.some((r) => existsIn(root, `nix/store/${e}/${r}`)));
}

export function readOsRelease(rootDir: string): Record<string, string> {
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    const p = resolveInRoot(rootDir, rel);
    if (p === undefined) continue;
    try {
      return parseOsRelease(fs.readFileSync(p, 'utf8'));
    } catch {
      /* try the next one */
    }
  }
  return {};
}

export function detectOs(rootDir: string): OsInfo {
  const osr = readOsRelease(rootDir);
  const id = (osr.ID ?? '').toLowerCase();
  const idLike = (osr.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const family = familyOf(id, idLike);
  let hasSystemd = SYSTEMD_PATHS.some((p) => existsIn(rootDir, p));
  let hasDbus = DBUS_PATHS.some((p) => existsIn(rootDir, p));
  if (family === 'nixos') {
    hasSystemd ||= existsIn(rootDir, 'run/current-system/sw/lib/systemd/systemd') || existsIn(rootDir, 'sbin/init') ||
      nixStoreHas(rootDir, ['lib/systemd/systemd', 'bin/systemd']);
    hasDbus ||= existsIn(rootDir, 'run/current-system/sw/bin/dbus-daemon') ||
      nixStoreHas(rootDir, ['bin/dbus-daemon', 'bin/dbus-broker']);
  }
  return { prettyName: osr.PRETTY_NAME || osr.NAME || '', id, idLike, family, hasSystemd, hasDbus };
}
