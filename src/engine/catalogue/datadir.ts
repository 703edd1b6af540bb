/**
 * The one place that creates the datadir and its top-level directories with
 * the modes of layout-and-state.md §1: datadir 0700 (re-applied), state/ and
 * containers/ 0700. Missing parents of the datadir are created 0755.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { SdmeError } from '../errors.js';
import { dataDirProblem } from './config.js';
import type { Layout } from './paths.js';

export type DataSubdir = 'state' | 'containers' | 'fs' | 'pods' | 'locks' | 'volumes';

export const DATADIR_MODE = 0o700;
export const SUBDIR_MODES: Readonly<Record<DataSubdir, number>> = {
  state: 0o700,
  containers: 0o700,
  fs: 0o755,
  pods: 0o700,
  locks: 0o700,
  volumes: 0o755,
};

function subdirPath(l: Layout, d: DataSubdir): string {
  switch (d) {
    case 'state':
      return l.stateDir;
    case 'containers':
      return l.containersDir;
    case 'fs':
      return l.fsDir;
    case 'pods':
      return l.podsDir;
    case 'locks':
      return l.locksDir;
    case 'volumes':
      return l.volumesDir;
  }
}

function fail(path: string, e: unknown): never {
  const msg = (e as Error).message.split(',')[0];
  throw new SdmeError(`cannot create ${path}: ${msg}`, { cause: e });
}

/** mkdir with an exact mode (umask-proof) when created; true if it was created. */
function mkdirExact(path: string, mode: number): boolean {
  try {
    mkdirSync(path, { mode });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') fail(path, e);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isDirectory()) throw new SdmeError(`cannot create ${path}: it exists and is not a directory`);
    return false;
  }
  chmodSync(path, mode);
  return true;
}

/**
 * Create the datadir (0700, re-applied if it drifted) and the given subdirs.
 * Refuses a datadir that `dataDirProblem` rejects (/, '..', system dirs).
 */
export function ensureDataDirSync(layout: Layout, subdirs: readonly DataSubdir[] = []): void {
  const root = layout.datadir;
  const why = dataDirProblem(root);
  if (why) throw new SdmeError(`refusing to use datadir ${root}: ${why}`);
  const parent = dirname(root);
  try {
    const first = mkdirSync(parent, { recursive: true, mode: 0o755 });
    // parents we created get exactly 0755 whatever the umask
    for (let p = parent; first !== undefined; p = dirname(p)) {
      chmodSync(p, 0o755);
      if (p === first || p === dirname(p)) break;
    }
  } catch (e) {
    fail(parent, e);
  }
  if (!mkdirExact(root, DATADIR_MODE)) {
    const st = statSync(root);
    if ((st.mode & 0o7777) !== DATADIR_MODE) chmodSync(root, DATADIR_MODE);
  }
  for (const d of subdirs) mkdirExact(subdirPath(layout, d), SUBDIR_MODES[d]);
}

export async function ensureDataDir(layout: Layout, subdirs: readonly DataSubdir[] = []): Promise<void> {
  ensureDataDirSync(layout, subdirs);
}
