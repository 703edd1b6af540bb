/**
 * `fs rm` (import-and-oci.md §4): exclusive lock, refuse while used, rename
 * to `.N.remove-txn-PID` (a concurrent create then sees "not found"),
 * re-check, safe-delete, drop sidecars.
 */
import { rename, rm } from 'node:fs/promises';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { lock } from '../catalogue/locks.js';
import { validateName } from '../catalogue/names.js';
import { safeRemoveDir } from '../catalogue/safe-remove.js';
import { containersUsing } from './usage.js';
import { pathExists } from '../../native/fsutil.js';


export function inUseMessage(name: string, users: string[]): string {
  return `fs '${name}' is in use by container${users.length > 1 ? 's' : ''} '${users.join("', '")}'`;
}

/** Throws `root filesystem 'N' not found` (or invalid name) unless fs/N exists; for a CLI batch's resolve step. */
export async function requireRootfs(ctx: Pick<Ctx, 'layout'>, name: string): Promise<string> {
  validateName(name, 'rootfs');
  if (!(await pathExists(ctx.layout.fsPath(name)))) throw new SdmeError(`root filesystem '${name}' not found`);
  return name;
}

/**
 * Removes rootfs `name`. With `force`, a missing rootfs is not an error
 * (returns false). Never removes a rootfs that a container uses.
 */
export async function removeRootfs(ctx: Ctx, name: string, opts: { force?: boolean } = {}): Promise<boolean> {
  validateName(name, 'rootfs');
  const { layout } = ctx;
  const path = layout.fsPath(name);
  const notFound = () => {
    if (opts.force) return false;
    throw new SdmeError(`root filesystem '${name}' not found`);
  };
  // checked before the lock too, so a missing name creates no lock file
  if (!(await pathExists(path))) return notFound();
  const l = lock(layout, 'fs', name, 'exclusive');
  let gone = false;
  try {
    if (!(await pathExists(path))) {
      gone = true;
      return notFound();
    }
    let users = await containersUsing(layout, name);
    if (users.length > 0) throw new SdmeError(inUseMessage(name, users));
    const staging = layout.fsTxn(name, 'remove');
    await safeRemoveDir(staging);
    await rename(path, staging);
    users = await containersUsing(layout, name);
    if (users.length > 0) {
      await rename(staging, path);
      throw new SdmeError(inUseMessage(name, users));
    }
    await safeRemoveDir(staging, { note: (m) => ctx.note(m) });
    await rm(layout.fsMeta(name), { force: true });
    await rm(layout.fsEnv(name), { force: true });
    gone = true;
    return true;
  } finally {
    l.release({ unlinkIfOwner: gone });
  }
}
