import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCtx, type Ctx } from '../../src/engine/context.js';
import type { SystemdClient } from '../../src/engine/systemd/dbus.js';
import { EngineAdapter } from '../../src/state/engine-adapter.js';
import { defaultFlags } from '../../src/state/create-flags.js';

let dir = '';
let ctx: Ctx;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-adapter-'));
  await writeFile(join(dir, 'sdme.conf'), `datadir = "${join(dir, 'data')}"\n`);
  ctx = await makeCtx({ configPath: join(dir, 'sdme.conf'), note: () => undefined });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fakeClient = { version: async () => 252 } as unknown as SystemdClient;

describe('EngineAdapter (fake bus client)', () => {
  it('validateCreateFlags: a bridge this host lacks is an error on the bridge field', async () => {
    const a = new EngineAdapter(ctx, { client: fakeClient });
    const v = await a.validateCreateFlags({ ...defaultFlags('box'), rootfs: '', network: 'bridge', bridge: 'sdmenobr7' });
    expect(v.errors).toEqual([{ field: 'bridge', message: "bridge 'sdmenobr7' does not exist on this host" }]);
    const ok = await a.validateCreateFlags({ ...defaultFlags('box'), network: 'veth' });
    expect(ok.errors).toEqual([]);
  });
});
