import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';
import { lock } from '../../src/engine/catalogue/locks.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { createContainer } from '../../src/engine/containers/create.js';
import { removeContainer } from '../../src/engine/containers/rm.js';
import type { Ctx } from '../../src/engine/context.js';
import type { SystemdClient } from '../../src/engine/systemd/dbus.js';

let dir: string;
let ctx: Ctx;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-rmlock-'));
  const config = { ...defaultConfig(), datadir: join(dir, 'data') };
  ctx = { config, configPath: join(dir, 'sdme.conf'), layout: layout(config.datadir), note: () => undefined, verbose: false };
  await mkdir(join(dir, 'units'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = () => ({ hostUnitDir: join(dir, 'units'), listMachines: async () => [] });

/** fake systemd: the unit is inactive, so rm only asks for its state */
function inactiveClient(name: string): SystemdClient {
  return {
    unitActiveStates: async () => new Map([[`sdme@${name}.service`, 'inactive']]),
    reload: async () => undefined,
  } as unknown as SystemdClient;
}

describe('rm and the container lock file (fake systemd client)', () => {
  it('a removed container leaves no lock file', async () => {
    const name = await createContainer(ctx, emptyState('gone-1'), opts());
    const lockFile = ctx.layout.lockFile('containers', name);
    await expect(lstat(lockFile)).resolves.toBeTruthy();
    await removeContainer(ctx, name, { client: inactiveClient(name) });
    await expect(lstat(ctx.layout.stateFile(name))).rejects.toThrow(/ENOENT/);
    await expect(lstat(lockFile)).rejects.toThrow(/ENOENT/);
  });

  it('a failed rm keeps the lock file; a held lock refuses rm and is not unlinked', async () => {
    const name = await createContainer(ctx, emptyState('kept-1'), opts());
    const lockFile = ctx.layout.lockFile('containers', name);
    const failing = {
      unitActiveStates: async () => {
        throw new Error('bus down');
      },
    } as unknown as SystemdClient;
    await expect(removeContainer(ctx, name, { client: failing })).rejects.toThrow('bus down');
    await expect(lstat(lockFile)).resolves.toBeTruthy();

    const held = lock(ctx.layout, 'containers', name, 'shared');
    try {
      await expect(removeContainer(ctx, name, { client: inactiveClient(name) })).rejects.toThrow(
        /cannot lock containers\/kept-1: locked by pid/,
      );
    } finally {
      held.release();
    }
    await expect(lstat(lockFile)).resolves.toBeTruthy();
    // still removable afterwards
    await removeContainer(ctx, name, { client: inactiveClient(name) });
    await expect(lstat(lockFile)).rejects.toThrow(/ENOENT/);
  });

  it('rm of a missing container creates no lock file', async () => {
    await expect(removeContainer(ctx, 'nope', { client: inactiveClient('nope') })).rejects.toThrow(
      "container 'nope' does not exist",
    );
    await expect(lstat(ctx.layout.lockFile('containers', 'nope'))).rejects.toThrow(/ENOENT/);
  });
});
