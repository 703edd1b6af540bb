/**
 * Create/start wiring of isolation checks, on real files in a temp datadir:
 * host-clone machine-id link, userns refusal on host clones (systemd < 255),
 * interface-name clashes, overlayfs bind sources under userns, AppArmor checks.
 */
import { lstat, mkdir, mkdtemp, readlink, rm, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { createContainer } from '../../src/engine/containers/create.js';
import { checkAppArmor } from '../../src/engine/containers/start.js';
import type { Ctx } from '../../src/engine/context.js';
import { SdmeError } from '../../src/engine/errors.js';
import { OVERLAYFS_MAGIC, assertIdmappableBinds } from '../../src/engine/security/bind-hosts.js';

let dir: string;
let ctx: Ctx;
let hostRoot: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-wiring-'));
  const config = { ...defaultConfig(), datadir: join(dir, 'data') };
  ctx = { config, configPath: join(dir, 'sdme.conf'), layout: layout(config.datadir), note: () => {}, verbose: false };
  hostRoot = join(dir, 'host');
  await mkdir(join(hostRoot, 'var/lib/dbus'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = (over = {}) => ({ hostUnitDir: join(dir, 'none'), hostRoot, listMachines: async () => [], systemdVersion: 252, ...over });

describe('host clone machine id', () => {
  it('a regular /var/lib/dbus/machine-id in the lower becomes a link to /etc/machine-id in upper', async () => {
    await writeFile(join(hostRoot, 'var/lib/dbus/machine-id'), '3d1219c7c4c5404aaa1f6d2a48adfda4\n');
    const name = await createContainer(ctx, emptyState('mid'), opts());
    expect(await readlink(join(ctx.layout.upper(name), 'var/lib/dbus/machine-id'))).toBe('/etc/machine-id');
  });
  it('left alone when the lower already links it (or lacks it), and for imported roots', async () => {
    await symlink('/etc/machine-id', join(hostRoot, 'var/lib/dbus/machine-id'));
    const a = await createContainer(ctx, emptyState('mid-a'), opts());
    await expect(lstat(join(ctx.layout.upper(a), 'var/lib/dbus/machine-id'))).rejects.toThrow(/ENOENT/);
    await mkdir(join(ctx.layout.fsPath('deb'), 'var/lib/dbus'), { recursive: true });
    await writeFile(join(ctx.layout.fsPath('deb'), 'var/lib/dbus/machine-id'), 'x\n');
    const b = await createContainer(ctx, { ...emptyState('mid-b'), rootfs: 'deb' }, opts());
    await expect(lstat(join(ctx.layout.upper(b), 'var/lib/dbus'))).rejects.toThrow(/ENOENT/);
  });
});

describe('user namespace refusals at create', () => {
  it('host clone + userns on systemd 252 is refused before anything is written', async () => {
    await expect(createContainer(ctx, { ...emptyState('hc'), userns: true }, opts())).rejects.toThrow(
      /on a host clone needs systemd 255 or later \(this host has 252\).*-r ROOTFS/,
    );
    await expect(lstat(ctx.layout.stateFile('hc'))).rejects.toThrow(/ENOENT/);
    // same spec on 255 passes this check
    expect(await createContainer(ctx, { ...emptyState('hc'), userns: true }, opts({ systemdVersion: 255 }))).toBe('hc');
  });
  it('overlayfs bind sources cannot be idmapped; devices are skipped', async () => {
    const binds = [{ host: '/srv/a' }, { host: '/dev/fuse' }];
    const types: Record<string, number> = { '/srv/a': OVERLAYFS_MAGIC, '/dev/fuse': OVERLAYFS_MAGIC };
    await expect(assertIdmappableBinds(binds, new Set(['/dev/fuse']), async (p) => types[p]!)).rejects.toThrow(
      /bind host path '\/srv\/a' is on overlayfs, which cannot be idmapped/,
    );
    await expect(assertIdmappableBinds([{ host: '/dev/fuse' }], new Set(['/dev/fuse']), async (p) => types[p]!)).resolves.toBeUndefined();
    // ext4 (0xef53) is fine
    await expect(assertIdmappableBinds([{ host: '/srv/a' }], new Set(), async () => 0xef53)).resolves.toBeUndefined();
  });
});

describe('interface name clashes at create', () => {
  it('a second container whose veth name collides is refused, naming the clash', async () => {
    // nspawn hashes long names, so the realistic clash is with an attached pod's interface
    await mkdir(ctx.layout.podDir('pp'), { recursive: true });
    await writeFile(ctx.layout.podState('pp'), 'CREATED=1\nNET_MODE=veth\nNET_HOST_IFACE=ve-web1\n');
    await expect(
      createContainer(ctx, { ...emptyState('web1'), networkVeth: true, privateNetwork: true, rootfs: '' }, opts()),
    ).rejects.toThrow(/host interface name 've-web1' of container 'web1' clashes with pod 'pp'/);
    await expect(lstat(ctx.layout.stateFile('web1'))).rejects.toThrow(/ENOENT/);
  });
  it('long shared prefixes get distinct hashed names and both are created', async () => {
    await createContainer(ctx, { ...emptyState('helloabcdef1x'), networkVeth: true, privateNetwork: true }, opts());
    expect(await createContainer(ctx, { ...emptyState('helloabcdef2x'), networkVeth: true, privateNetwork: true }, opts())).toBe(
      'helloabcdef2x',
    );
  });
});

describe('checkAppArmor', () => {
  it('no AppArmor in the kernel: refused with what to do', async () => {
    await expect(checkAppArmor('box', 'sdme-default', join(dir, 'no-such-file'))).rejects.toThrow(
      /container 'box' needs AppArmor profile 'sdme-default' \(--strict or --apparmor-profile\), but AppArmor is not enabled on this host/,
    );
  });
  it('profile not loaded vs loaded', async () => {
    const f = join(dir, 'profiles');
    await writeFile(f, 'docker-default (enforce)\nsdme-defaultX (enforce)\n');
    await expect(checkAppArmor('box', 'sdme-default', f)).rejects.toThrow(SdmeError);
    await expect(checkAppArmor('box', 'sdme-default', f)).rejects.toThrow(/apparmor_parser -r \/etc\/apparmor.d\/sdme-default/);
    await writeFile(f, 'sdme-default (enforce)\n');
    await expect(checkAppArmor('box', 'sdme-default', f)).resolves.toBeUndefined();
  });
});

describe('--read-only bind mount points', () => {
  it('created in upper (dir or empty file) unless the lower has them; never through a lower symlink', async () => {
    await mkdir(join(hostRoot, 'mnt/exists'), { recursive: true });
    await symlink('/run', join(hostRoot, 'var/run'));
    const src = join(dir, 'src');
    await mkdir(src);
    await writeFile(join(dir, 'file-src'), 'x');
    const notes: string[] = [];
    const c = { ...ctx, note: (m: string) => notes.push(m) };
    const binds = [
      { host: src, container: '/mnt/ro', mode: 'ro' as const },
      { host: join(dir, 'file-src'), container: '/etc/one.conf', mode: 'ro' as const },
      { host: src, container: '/mnt/exists', mode: 'rw' as const },
      { host: src, container: '/var/run/x', mode: 'rw' as const },
    ];
    const name = await createContainer(c, { ...emptyState('rob'), readOnly: true, binds }, opts());
    const up = ctx.layout.upper(name);
    expect((await lstat(join(up, 'mnt/ro'))).isDirectory()).toBe(true);
    expect((await lstat(join(up, 'etc/one.conf'))).isFile()).toBe(true);
    await expect(lstat(join(up, 'mnt/exists'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(join(up, 'var/run'))).rejects.toThrow(/ENOENT/);
    expect(notes.join('\n')).toMatch(/bind target \/var\/run\/x goes through a symlink/);
    // without --read-only nothing is pre-created
    const rw = await createContainer(ctx, { ...emptyState('rwb'), binds: binds.slice(0, 1) }, opts());
    await expect(lstat(join(ctx.layout.upper(rw), 'mnt/ro'))).rejects.toThrow(/ENOENT/);
  });
});
