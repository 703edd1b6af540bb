/**
 * `fs import SOURCE`: name inference and source kind (import-and-oci.md §1
 * steps 2 and 4). Pure except `classifySource`, which looks at the file.
 */
import * as fs from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SdmeError } from '../errors.js';
import { PSEUDO_FS_TYPES, pseudoMountsAt, readMountinfo, type MountEntry } from '../../native/mountinfo.js';
import type { Layout } from '../catalogue/paths.js';
import { isValidName, showName } from '../catalogue/names.js';
import { readHead } from './compression.js';

const COMP = ['', '.gz', '.bz2', '.xz', '.zst'];
/** Longest first so `.oci.tar.gz` beats `.tar.gz` beats `.gz`. */
const SUFFIXES: string[] = [
  ...COMP.map((c) => `.oci.tar${c}`),
  ...COMP.map((c) => `.tar${c}`),
  '.tgz',
  '.tbz2',
  '.txz',
  '.tzst',
  ...COMP.map((c) => `.raw${c}`),
  ...COMP.map((c) => `.img${c}`),
  '.qcow2',
  '.gz',
  '.bz2',
  '.xz',
  '.zst',
].sort((a, b) => b.length - a.length);

/** Registry reference per §6: `host.tld/repo[:tag]`, host part must contain a dot. */
export function parseRegistryRef(s: string): { registry: string; repository: string; tag: string } | undefined {
  if (s.startsWith('/') || s.startsWith('.') || /^https?:\/\//.test(s)) return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const host = s.slice(0, slash);
  if (!host.includes('.')) return undefined;
  let rest = s.slice(slash + 1);
  let tag = 'latest';
  const colon = rest.lastIndexOf(':');
  if (colon >= 0 && !rest.slice(colon + 1).includes('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (rest === '') return undefined;
  return { registry: host, repository: rest, tag };
}

/** The rootfs name `fs import` would use when `--name` is absent (may be invalid). */
export function inferRawName(source: string): string {
  const ref = /^https?:\/\//.test(source) ? undefined : parseRegistryRef(source);
  if (ref) return ref.repository.split('/').pop()!;
  let s = source.replace(/[?#].*$/s, '').replace(/\/+$/, '');
  s = s.slice(s.lastIndexOf('/') + 1);
  const lower = s.toLowerCase();
  const suf = SUFFIXES.find((x) => lower.endsWith(x) && lower.length > x.length);
  return suf ? s.slice(0, s.length - suf.length) : s;
}

export function inferRootfsName(source: string): string {
  const n = inferRawName(source);
  if (!isValidName(n)) {
    throw new SdmeError(`cannot infer a valid rootfs name from '${showName(source)}' (got '${showName(n)}'); use --name`);
  }
  return n;
}

export type SourceKind = 'url' | 'registry' | 'dir' | 'qcow2' | 'raw' | 'tarball';

const RAW_NAME = /\.(raw|img)(\.(gz|bz2|xz|zst))?$/i;

/** First match wins: URL, registry reference, directory, file (qcow2 / raw / tarball). */
export function classifySource(source: string): SourceKind {
  if (/^https?:\/\//.test(source)) return 'url';
  if (parseRegistryRef(source)) return 'registry';
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new SdmeError(`source path does not exist: ${showName(source)}`);
  }
  if (st.isDirectory()) return 'dir';
  if (!st.isFile()) throw new SdmeError(`unsupported source: ${showName(source)} is neither a directory nor a regular file`);
  const head = readHead(source, 1024);
  if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2';
  if (RAW_NAME.test(source)) return 'raw';
  if (head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa) return 'raw';
  if (head.length >= 520 && head.subarray(512, 520).toString('latin1') === 'EFI PART') return 'raw';
  return 'tarball';
}

/** Absolute path with symlinks resolved as far as it exists (the rest kept lexically). */
export function canonicalPath(p: string): string {
  const abs = resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(canonicalPath(parent), basename(abs));
  }
}

export interface DirSource {
  /** canonical source directory (copy from here) */
  root: string;
  /** pseudo-filesystem mount points below root -> fs type (contents not copied) */
  skipContents: Map<string, string>;
}

/**
 * Checks a directory source before anything is written: not `/`, not a
 * directory that contains the datadir's fs/ (the import would copy itself
 * forever), not a pseudo filesystem. Sources inside the datadir (e.g. an
 * existing `fs/NAME`) are fine: the staging dir is not below them.
 */
export function checkDirSource(source: string, layout: Layout, mounts: MountEntry[] = readMountinfo()): DirSource {
  const root = canonicalPath(source);
  if (root === '/') {
    throw new SdmeError('refusing to import / as a root filesystem; to clone the host, use `sdme create` without -r');
  }
  const fsDir = canonicalPath(layout.fsDir);
  if (fsDir === root || fsDir.startsWith(`${root}/`)) {
    throw new SdmeError(
      `refusing to import ${showName(source)}: it contains the sdme data directory ${canonicalPath(layout.datadir)} (the import would copy itself)`,
    );
  }
  const own = containingMount(root, mounts);
  if (own && PSEUDO_FS_TYPES.has(own.fsType)) {
    throw new SdmeError(`refusing to import ${showName(source)}: it is on a ${own.fsType} filesystem, not a root filesystem`);
  }
  const skipContents = pseudoMountsAt(root, mounts);
  skipContents.delete(root);
  return { root, skipContents };
}

/** The visible mount holding path (longest mount point prefix; the later of stacked mounts). */
function containingMount(path: string, mounts: MountEntry[]): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const p = m.mountPoint;
    const holds = p === '/' || path === p || path.startsWith(`${p}/`);
    if (holds && (!best || p.length >= best.mountPoint.length)) best = m;
  }
  return best;
}
