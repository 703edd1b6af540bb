/**
 * stop (lifecycle.md §5): graceful (SIGRTMIN+3 to the leader = halt),
 * --term (TerminateMachine), --kill (SIGKILL to all, then StopUnit to cancel
 * a pending Restart=). Never takes locks.
 */
import { unitName } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { waitForShutdown } from '../systemd/bootwait.js';
import type { SystemdClient } from '../systemd/dbus.js';
import { ensureExists, withSystemd } from './common.js';

export type StopMode = 'graceful' | 'term' | 'kill';

/** SIGRTMIN+3 with glibc numbering (SIGRTMIN = 34): systemd's halt signal. */
export const SIGRTMIN_PLUS_3 = 37;
const SIGKILL = 9;

export function stopTimeoutSec(ctx: Ctx, mode: StopMode): number {
  if (mode === 'term') return ctx.config.stop_timeout_terminate;
  if (mode === 'kill') return ctx.config.stop_timeout_kill;
  return ctx.config.stop_timeout_graceful;
}

export interface StopOptions {
  client?: SystemdClient;
  /** override the config timeout (rm uses a fixed 30 s) */
  timeoutSec?: number;
}

export async function stopContainer(ctx: Ctx, name: string, mode: StopMode, opts: StopOptions = {}): Promise<void> {
  await ensureExists(ctx, name);
  await withSystemd(opts.client, (client) => stopWith(ctx, client, name, mode, opts.timeoutSec));
}

/** Signal the machine per mode and wait until the machine and the unit are gone. */
export async function stopWith(
  ctx: Ctx,
  client: SystemdClient,
  name: string,
  mode: StopMode,
  timeoutSec = stopTimeoutSec(ctx, mode),
): Promise<void> {
  const unit = unitName(name);
  const timeoutMs = timeoutSec * 1000;
  if (mode === 'graceful') {
    await client.killMachine(name, 'leader', SIGRTMIN_PLUS_3);
  } else if (mode === 'term') {
    await client.terminateMachine(name);
  } else {
    await client.killMachine(name, 'all', SIGKILL);
    // cancels a pending Restart= and waits for ExecStopPost
    await client.stopUnit(unit, { timeoutMs, signal: ctx.signal }).catch(() => undefined);
  }
  const r = await waitForShutdown(client, name, unit, { timeoutMs, signal: ctx.signal });
  if (mode === 'kill') await client.resetFailedUnit(unit).catch(() => undefined);
  if (r === 'timeout') {
    const hint = mode === 'kill' ? '' : ` (try 'sdme stop --kill ${name}')`;
    throw new SdmeError(`container '${name}' did not stop within ${timeoutSec}s${hint}`);
  }
}
