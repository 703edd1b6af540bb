/**
 * Advisory locks on `locks/KIND/NAME.lock` (import-and-oci.md §5): non-blocking
 * flock(2), holder PID written into the file, released on release() or when
 * the process dies (the kernel drops the lock with the last fd).
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { flock, isWouldBlock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../../native/libc.js';
import { SdmeError } from '../errors.js';
import type { Layout, LockKind } from './paths.js';

export type LockMode = 'shared' | 'exclusive';

export interface Lock {
  readonly path: string;
  readonly mode: LockMode;
  release(): void;
}

/** Take a lock without blocking; throws `cannot lock KIND/NAME: locked by pid P` when held. */
export function lock(layout: Layout, kind: LockKind | string, name: string, mode: LockMode = 'exclusive'): Lock {
  const path = layout.lockFile(kind, name);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const fd = openSync(path, fsc.O_RDWR | fsc.O_CREAT, 0o644);
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
    release() {
      if (released) return;
      released = true;
      try {
        flock(fd, LOCK_UN);
      } finally {
        closeSync(fd);
      }
    },
  };
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
): Promise<T> {
  const l = lock(layout, kind, name, mode);
  try {
    return await fn();
  } finally {
    l.release();
  }
}
