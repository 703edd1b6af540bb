/**
 * enable / disable (lifecycle.md §9). Unlike the original, enable also
 * writes the drop-ins, so a container enabled but never started boots with
 * its real nspawn command line at host boot, not the template's /bin/false.
 */
import { readState, writeState } from '../catalogue/container-state.js';
import { lock } from '../catalogue/locks.js';
import { unitName } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import type { SystemdClient } from '../systemd/dbus.js';
import { ensureExists, withSystemd } from './common.js';
import { writeDropins, writeTemplate } from './start.js';

export async function enableContainer(ctx: Ctx, name: string, opts: { client?: SystemdClient } = {}): Promise<void> {
  await ensureExists(ctx, name);
  const held = lock(ctx.layout, 'containers', name, 'shared');
  try {
    await withSystemd(opts.client, async (client) => {
      const state = await readState(ctx.layout, name);
      const version = await client.version();
      const t = await writeTemplate(ctx, version, ctx.config.boot_timeout);
      const d = await writeDropins(ctx, state, version);
      if (t || d) await client.reload();
      await client.enableUnitFiles([unitName(name)]);
      await writeState(ctx.layout, { ...state, enabled: true });
    });
  } finally {
    held.release();
  }
}

export async function disableContainer(ctx: Ctx, name: string, opts: { client?: SystemdClient } = {}): Promise<void> {
  await ensureExists(ctx, name);
  const held = lock(ctx.layout, 'containers', name, 'shared');
  try {
    await withSystemd(opts.client, async (client) => {
      const state = await readState(ctx.layout, name);
      await client.disableUnitFiles([unitName(name)]);
      await writeState(ctx.layout, { ...state, enabled: false });
    });
  } finally {
    held.release();
  }
}
