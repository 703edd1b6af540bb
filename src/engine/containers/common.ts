/**
 * Helpers shared by the lifecycle modules: the D-Bus session, existence
 * checks, and writing a file only when its content changed.
 */
import { lstat, mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SystemdClient } from '../systemd/dbus.js';
import { writeFileAtomic } from '../catalogue/kv.js';
import { showName } from '../catalogue/names.js';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { sleep } from '../../native/fsutil.js';
export { sleep };

/** Run fn with the given client, or with a fresh connection closed afterwards. */
export async function withSystemd<T>(client: SystemdClient | undefined, fn: (c: SystemdClient) => Promise<T>): Promise<T> {
  if (client) return fn(client);
  const c = await SystemdClient.connect();
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** The container must have a state file and a container dir. */
export async function ensureExists(ctx: Ctx, name: string): Promise<void> {
  if (!(await exists(ctx.layout.stateFile(name)))) {
    throw new SdmeError(`container '${showName(name)}' does not exist`);
  }
  if (!(await exists(ctx.layout.containerDir(name)))) {
    throw new SdmeError(`container '${name}' is broken: ${ctx.layout.containerDir(name)} is missing (remove it with 'sdme rm ${name}')`);
  }
}

/** Write path (mode) only if its content differs; returns true when written. */
export async function writeIfChanged(path: string, content: string, mode = 0o644): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFileAtomic(path, content, mode);
  return true;
}

/** Remove path if present; returns true when something was removed. */
export async function removeIfExists(path: string): Promise<boolean> {
  if (!(await exists(path))) return false;
  await rm(path, { force: true });
  return true;
}

/** rmdir if empty; ignores missing or non-empty. */
export async function rmdirIfEmpty(path: string): Promise<boolean> {
  try {
    await rmdir(path);
    return true;
  } catch {
    return false;
  }
}

