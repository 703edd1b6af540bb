/**
 * set NAME (lifecycle.md §9): replace all limits (omitted = cleared), write
 * state, then limits.conf (+Reload). A running container keeps its old
 * limits until restarted.
 */
import { readState, writeState } from '../catalogue/container-state.js';
import { lock } from '../catalogue/locks.js';
import { limitsDropin, unitName } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import { validateCpuWeight, validateCpus, validateDisk, validateMemory } from '../security/validate.js';
import type { SystemdClient } from '../systemd/dbus.js';
import { renderLimitsDropin } from '../systemd/units.js';
import { ensureExists, removeIfExists, withSystemd, writeIfChanged } from './common.js';
import { tidyDropinDir } from './start.js';

export interface Limits {
  memory?: string;
  cpus?: string;
  cpuWeight?: string;
  disk?: string;
}

export async function setLimits(ctx: Ctx, name: string, limits: Limits, opts: { client?: SystemdClient } = {}): Promise<void> {
  // validate everything before writing anything
  const memory = limits.memory === undefined ? undefined : validateMemory(limits.memory);
  const cpus = limits.cpus === undefined ? undefined : validateCpus(limits.cpus);
  const cpuWeight = limits.cpuWeight === undefined ? undefined : validateCpuWeight(limits.cpuWeight);
  if (limits.disk !== undefined) validateDisk(limits.disk);
  await ensureExists(ctx, name);
  const held = lock(ctx.layout, 'containers', name, 'shared');
  try {
    const state = await readState(ctx.layout, name);
    if (limits.disk !== undefined && state.storage !== 'btrfs') {
      ctx.note('warning: --disk only applies to btrfs storage; ignored for overlay');
    }
    const next = { ...state, memory, cpus, cpuWeight };
    await writeState(ctx.layout, next);
    const text = renderLimitsDropin(next);
    const changed = text ? await writeIfChanged(limitsDropin(name), text, 0o644) : await removeIfExists(limitsDropin(name));
    if (!text) await tidyDropinDir(name);
    await withSystemd(opts.client, async (client) => {
      if (changed) await client.reload();
      const active = (await client.unitActiveStates([unitName(name)])).get(unitName(name));
      if (active === 'active' || active === 'activating') {
        ctx.note(`note: container '${name}' is running; restart for limits to take effect`);
      }
    });
  } finally {
    held.release();
  }
}
