import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layout } from '../../src/engine/catalogue/paths.js';
import { gatherCreateHostFacts } from '../../src/engine/containers/host-facts.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-hostfacts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gatherCreateHostFacts (temp datadir, fake systemd version)', () => {
  it('reads pods with a state file, OCI app units, device binds and bridges', async () => {
    const L = layout(join(dir, 'data'));
    // pods: 'shop' has a state file, 'half' is a bare dir
    await mkdir(join(L.podsDir, 'shop'), { recursive: true });
    await writeFile(L.podState('shop'), '{}');
    await mkdir(join(L.podsDir, 'half'), { recursive: true });
    // rootfs 'nginx' has an OCI app unit, 'debian' does not
    await mkdir(join(L.fsPath('nginx'), 'etc/systemd/system'), { recursive: true });
    await writeFile(join(L.fsPath('nginx'), 'etc/systemd/system/sdme-oci-app.service'), '');
    await mkdir(join(L.fsPath('debian'), 'etc/systemd/system'), { recursive: true });
    // sys/class/net: br0 is a bridge, eth0 is not
    const net = join(dir, 'net');
    await mkdir(join(net, 'br0', 'bridge'), { recursive: true });
    await mkdir(join(net, 'eth0'), { recursive: true });
    const client = { version: async () => 252 };

    const f = await gatherCreateHostFacts({ layout: L }, client, { fs: 'nginx', binds: ['/dev/null:/dev/null', `${dir}:/x`] }, { sysClassNet: net });
    expect(f.systemdVersion).toBe(252);
    expect(f.pods).toEqual(['shop']);
    expect(f.rootfsHasOciApp).toBe(true);
    expect([...f.hostDevices!]).toEqual(['/dev/null']);
    expect(f.bridgeExists!('br0')).toBe(true);
    expect(f.bridgeExists!('eth0')).toBe(false);
    expect(f.bridgeExists!('nope')).toBe(false);

    expect((await gatherCreateHostFacts({ layout: L }, client, { fs: 'debian' })).rootfsHasOciApp).toBe(false);
    expect((await gatherCreateHostFacts({ layout: L }, client, {})).rootfsHasOciApp).toBeUndefined();
  });

  it('a missing datadir gives no pods', async () => {
    const f = await gatherCreateHostFacts({ layout: layout(join(dir, 'none')) }, { version: async () => 257 }, { binds: [] });
    expect(f).toMatchObject({ systemdVersion: 257, pods: [] });
  });
});
