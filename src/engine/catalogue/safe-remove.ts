/**
 * safe_remove_dir (lifecycle.md §7): unmount whatever is mounted below dir
 * (deepest first, `umount -R`), refuse without deleting anything if a mount
 * survives, then delete recursively without ever crossing into a mount
 * (every directory's mount ID, from statx, must equal the top directory's;
 * st_dev is the fallback where statx lacks mount IDs. A changed st_dev on the
 * same mount is a btrfs subvolume, not a mount, and is allowed).
 */
import { chmod, lstat, opendir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LibcError, mountId } from '../../native/libc.js';
import { canonicalDir, isMountPoint, mountsUnder } from '../../native/mountinfo.js';
import { run } from '../../native/run.js';
import { SdmeError } from '../errors.js';

export interface SafeRemoveOptions {
  /** warnings (mounts found, unmounting) */
  note?: (msg: string) => void;
  /** mountinfo reader, for tests */
  mounts?: (dir: string) => string[];
}

/** Unmount everything under dir, deepest first. Returns mounts that remain. */
export async function unmountUnder(dir: string, opts: SafeRemoveOptions = {}): Promise<string[]> {
  const list = opts.mounts ?? ((d: string) => mountsUnder(d));
  const found = list(dir);
  if (found.length === 0) return [];
  opts.note?.(`unmounting ${found.length} stale mount(s) under ${dir}`);
  const ordered = [...found].sort((a, b) => b.length - a.length);
  for (const m of ordered) {
    // a parent `umount -R` may already have taken it; the re-read below decides
    await run('umount', ['-R', m], { timeoutMs: 30_000 });
  }
  return list(dir);
}

/**
 * Remove dir and everything in it, safely. A missing dir is not an error.
 * Throws SdmeError if mounts under dir cannot be unmounted, or if the walk
 * meets a directory on another device (a mount that appeared meanwhile).
 */
export async function safeRemoveDir(dir: string, opts: SafeRemoveOptions = {}): Promise<void> {
  let top;
  try {
    top = await lstat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!top.isDirectory()) {
    await unlink(dir); // a symlink or file: remove the entry itself, never its target
    return;
  }
  const base = canonicalDir(dir);
  if (!opts.mounts && isMountPoint(base)) {
    throw new SdmeError(`refusing to remove ${dir}: it is itself a mount point`);
  }
  const remaining = await unmountUnder(base, opts);
  if (remaining.length > 0) {
    throw new SdmeError(`refusing to remove ${dir}: stale mounts could not be unmounted: ${remaining.join(', ')}`);
  }
  await removeTree(base, { dev: top.dev, mnt: tryMountId(base) });
}

interface Origin {
  dev: number;
  /** undefined when the kernel cannot report mount IDs */
  mnt: bigint | undefined;
}

function tryMountId(path: string): bigint | undefined {
  try {
    return mountId(path);
  } catch (e) {
    if (e instanceof LibcError && (e.code === 'ENOSYS' || e.code === 'EINVAL')) return undefined;
    throw e;
  }
}

function sameMount(path: string, devNow: number, origin: Origin): boolean {
  if (origin.mnt !== undefined) return mountId(path) === origin.mnt;
  return devNow === origin.dev;
}

async function removeTree(path: string, origin: Origin): Promise<void> {
  const st = await lstat(path);
  if (!sameMount(path, st.dev, origin)) {
    throw new SdmeError(`refusing to remove ${path}: it is on another mount than the directory being removed`);
  }
  // u+rwx so we can list and unlink entries (no symlink following: lstat above)
  if ((st.mode & 0o700) !== 0o700) await chmod(path, (st.mode & 0o7777) | 0o700);
  const subdirs: string[] = [];
  const files: string[] = [];
  const d = await opendir(path);
  for await (const ent of d) {
    const p = join(path, ent.name);
    if (ent.isDirectory()) subdirs.push(p);
    else files.push(p);
  }
  for (let i = 0; i < files.length; i += 64) {
    await Promise.all(files.slice(i, i + 64).map((f) => unlinkIgnoringMissing(f)));
  }
  for (const s of subdirs) await removeTree(s, origin);
  try {
    await rmdir(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') throw new SdmeError(`refusing to remove ${path}: it is a mount point`);
    if (code !== 'ENOENT') throw e;
  }
}

async function unlinkIgnoringMissing(p: string): Promise<void> {
  try {
    await unlink(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR' || code === 'EPERM') {
      // raced into a directory (or immutable entry): surface a clear error
      throw new SdmeError(`cannot remove ${p}: ${code}`);
    }
    throw e;
  }
}
