/**
 * Advisory locks on `locks/KIND/NAME.lock` (import-and-oci.md §5): non-blocking
 * flock(2), holder PID written into the file, released on release() or when
 * the process dies (the kernel drops the lock with the last fd).
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
  constants as fsc,
} from 'node:fs';
import { dirname } from 'node:path';
import { flock, isWouldBlock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../../native/libc.js';
import { SdmeError } from '../errors.js';
import { ensureDataDirSync } from './datadir.js';
import type { Layout, LockKind } from './paths.js';

export type LockMode = 'shared' | 'exclusive';

export interface ReleaseOptions {
  /**
   * Exclusive holders only: unlink the lock file before unlocking (use when
   * the NAME no longer exists, so failed or removing commands leave no lock
   * file behind). Ignored for shared locks, whose co-holders still use it.
   */
  unlinkIfOwner?: boolean;
}

export interface Lock {
  readonly path: string;
  readonly mode: LockMode;
  release(opts?: ReleaseOptions): void;
}

/** Test seam: runs between open() and flock() in lock() (unit tests force the unlink race with it). */
export const lockTestHooks: { afterOpen?: () => void } = {};

/** Same inode still at path? (false if the path is gone or replaced). */
function stillAtPath(fd: number, path: string): boolean {
  const held = fstatSync(fd);
  const now = statSync(path, { throwIfNoEntry: false });
  return now !== undefined && now.ino === held.ino && now.dev === held.dev;
}

/**
 * Take a lock without blocking; throws `cannot lock KIND/NAME: locked by pid P` when held.
 *
 * Lock files may be unlinked by an exclusive holder (release with
 * unlinkIfOwner), so after flock succeeds we check that the file we locked is
 * still the one at the path; if it was unlinked or replaced meanwhile, we
 * retry on the new file (the standard unlink-safe flock pattern).
 */
export function lock(layout: Layout, kind: LockKind | string, name: string, mode: LockMode = 'exclusive'): Lock {
  const path = layout.lockFile(kind, name);
  for (let attempt = 0; ; attempt++) {
    ensureDataDirSync(layout, ['locks']);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const fd = openSync(path, fsc.O_RDWR | fsc.O_CREAT, 0o644);
    lockTestHooks.afterOpen?.();
    try {
      flock(fd, (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB);
    } catch (e) {
      closeSync(fd);
      if (isWouldBlock(e)) {
        const verb = mode === 'shared' ? 'read-lock' : 'lock';
        const pid = readHolder(path);
        const by = pid === undefined ? 'another process' : `pid ${pid}`;
        throw new SdmeError(`cannot ${verb} ${kind}/${name}: locked by ${by}`);
      }
      throw e;
    }
    if (!stillAtPath(fd, path)) {
      closeSync(fd); // drops the lock on the orphaned inode
      if (attempt >= 100) throw new SdmeError(`cannot lock ${kind}/${name}: lock file keeps being replaced`);
      continue;
    }
    return heldLock(fd, path, mode);
  }
}

function heldLock(fd: number, path: string, mode: LockMode): Lock {
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch {
    /* the PID is informational only */
  }
  let released = false;
  return {
    path,
    mode,
    release(opts: ReleaseOptions = {}) {
      if (released) return;
      released = true;
      try {
        // unlink while still holding the exclusive lock; acquirers that opened
        // the old inode see it gone after their flock and retry
        if (opts.unlinkIfOwner && mode === 'exclusive' && stillAtPath(fd, path)) unlinkSync(path);
      } catch {
        /* a leftover lock file is harmless */
      } finally {
        try {
          flock(fd, LOCK_UN);
        } finally {
          closeSync(fd);
        }
      }
    },
  };
}

/**
 * Remove `locks/KIND/NAME.lock` if nobody holds it (takes the exclusive lock,
 * unlinks, releases). Returns false when it is held or absent.
 */
export function removeLockFile(layout: Layout, kind: LockKind | string, name: string): boolean {
  const path = layout.lockFile(kind, name);
  if (statSync(path, { throwIfNoEntry: false }) === undefined) return false;
  let l: Lock;
  try {
    l = lock(layout, kind, name, 'exclusive');
  } catch (e) {
    if (e instanceof SdmeError) return false;
    throw e;
  }
  l.release({ unlinkIfOwner: true });
  return true;
}

/** PID recorded in a lock file, if any. */
export function readHolder(path: string): number | undefined {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

/** Run fn while holding the lock; always released afterwards. */
export async function withLock<T>(
  layout: Layout,
  kind: LockKind | string,
  name: string,
  mode: LockMode,
  fn: () => Promise<T> | T,
  opts: { unlinkAfter?: () => boolean | Promise<boolean> } = {},
): Promise<T> {
  const l = lock(layout, kind, name, mode);
  let unlink = false;
  try {
    return await fn();
  } finally {
    try {
      unlink = opts.unlinkAfter ? await opts.unlinkAfter() : false;
    } finally {
      l.release({ unlinkIfOwner: unlink });
    }
  }
}
