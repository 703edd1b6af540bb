/**
 * rm (lifecycle.md §7): exclusive lock, disable, stop whatever runs, then
 * safe_remove_dir of the container tree, the state file and the drop-ins.
 */
import { readState, removeStateFile } from '../catalogue/container-state.js';
import { lock } from '../catalogue/locks.js';
import { showName } from '../catalogue/names.js';
import { unitName } from '../catalogue/paths.js';
import { safeRemoveDir } from '../catalogue/safe-remove.js';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { waitForShutdown } from '../systemd/bootwait.js';
import type { SystemdClient } from '../systemd/dbus.js';
import type { ContainerState } from '../types.js';
import { exists, withSystemd } from './common.js';
import { removeDropins } from './start.js';
import { stopWith } from './stop.js';

/** rm stops with a fixed 30 s budget regardless of config. */
export const RM_STOP_TIMEOUT_SEC = 30;

export interface RemoveOptions {
  client?: SystemdClient;
}

export async function removeContainer(ctx: Ctx, name: string, opts: RemoveOptions = {}): Promise<void> {
  const L = ctx.layout;
  if (!(await exists(L.stateFile(name))) && !(await exists(L.containerDir(name)))) {
    throw new SdmeError(`container '${showName(name)}' does not exist`);
  }
  const held = lock(L, 'containers', name, 'exclusive');
  let removed = false;
  try {
    await withSystemd(opts.client, (client) => removeLocked(ctx, client, name));
    removed = true;
  } finally {
    // a removed container leaves no lock file behind
    held.release({ unlinkIfOwner: removed });
  }
}

async function removeLocked(ctx: Ctx, client: SystemdClient, name: string): Promise<void> {
  const L = ctx.layout;
  const unit = unitName(name);
  let state: ContainerState | undefined;
  try {
    state = await readState(L, name);
  } catch (e) {
    ctx.note(`warning: ${name}: unreadable state file: ${(e as Error).message}`);
  }
  if (state?.enabled === true) {
    await client.disableUnitFiles([unit]).catch((e: Error) => ctx.note(`warning: could not disable ${unit}: ${e.message}`));
  }

  const active = (await client.unitActiveStates([unit])).get(unit);
  if (active === 'active') {
    try {
      await stopWith(ctx, client, name, 'term', RM_STOP_TIMEOUT_SEC);
    } catch (e) {
      // machine not registered (e.g. unit active but nspawn gone): stop the unit instead
      if (!(e instanceof SdmeError) || !/not running/.test(e.message)) throw e;
      await stopUnitAndWait(ctx, client, name);
    }
  } else if (active !== undefined && active !== 'inactive') {
    await stopUnitAndWait(ctx, client, name);
  }

  await safeRemoveDir(L.containerDir(name), { note: ctx.note });
  await removeStateFile(L, name);
  if (await removeDropins(name)) await client.reload();
  if (state && state.ociVolumes.length > 0) ctx.note(`volume data retained at ${L.volumeDir(name)}`);
}

/** activating (restart window), deactivating, failed: StopUnit, wait, reset-failed. */
async function stopUnitAndWait(ctx: Ctx, client: SystemdClient, name: string): Promise<void> {
  const unit = unitName(name);
  const timeoutMs = RM_STOP_TIMEOUT_SEC * 1000;
  await client.stopUnit(unit, { timeoutMs, signal: ctx.signal });
  const r = await waitForShutdown(client, name, unit, { timeoutMs, signal: ctx.signal });
  await client.resetFailedUnit(unit).catch(() => undefined);
  if (r === 'timeout') throw new SdmeError(`container '${name}' did not stop within ${RM_STOP_TIMEOUT_SEC}s`);
}
