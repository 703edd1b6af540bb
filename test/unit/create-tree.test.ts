import { lstat, mkdir, mkdtemp, readFile, readlink, readdir, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { emptyState, readState } from '../../src/engine/catalogue/container-state.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { lockTestHooks } from '../../src/engine/catalogue/locks.js';
import { createContainer } from '../../src/engine/containers/create.js';
import type { Ctx } from '../../src/engine/context.js';
import { lgetxattr } from '../../src/native/libc.js';

let dir: string;
let ctx: Ctx;
let notes: string[];
let hostUnits: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sdme-create-'));
  notes = [];
  const config = { ...defaultConfig(), datadir: join(dir, 'data') };
  ctx = { config, configPath: join(dir, 'sdme.conf'), layout: layout(config.datadir), note: (m) => notes.push(m), verbose: false };
  hostUnits = join(dir, 'host-units');
  await mkdir(hostUnits);
  await writeFile(join(hostUnits, 'data.mount'), '[Mount]\n');
  await writeFile(join(hostUnits, 'swapfile.swap'), '[Swap]\n');
  await writeFile(join(hostUnits, 'foo.service'), '[Service]\n');
  await mkdir(join(hostUnits, 'dir.automount'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const opts = () => ({ hostUnitDir: hostUnits, listMachines: async () => [] });

describe('createContainer (real files in a temp datadir)', () => {
  it('builds the host-clone tree with modes, opaque xattrs, masks and the state file', async () => {
    const spec = {
      ...emptyState('deb-template'),
      opaqueDirs: ['/etc/systemd/system', '/var/log'],
      maskedServices: ['systemd-resolved.service'],
    };
    const name = await createContainer(ctx, spec, opts());
    expect(name).toBe('deb-template');
    const L = ctx.layout;
    const mode = async (p: string) => (await lstat(p)).mode & 0o7777;
    expect(await mode(L.datadir)).toBe(0o700);
    expect(await mode(L.stateDir)).toBe(0o700);
    expect(await mode(L.containersDir)).toBe(0o700);
    expect(await mode(L.upper(name))).toBe(0o755);
    expect(await mode(L.work(name))).toBe(0o700);
    expect(await mode(L.merged(name))).toBe(0o755);
    expect(await mode(L.stateFile(name))).toBe(0o600);
    const up = L.upper(name);
    expect(lgetxattr(join(up, 'etc/systemd/system'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lgetxattr(join(up, 'var/log'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(await readFile(join(up, 'etc/hostname'), 'utf8')).toBe('deb-template\n');
    expect(await readFile(join(up, 'etc/hosts'), 'utf8')).toBe(
      '127.0.0.1 localhost deb-template\n::1 localhost deb-template\n',
    );
    expect(await readFile(join(up, 'etc/machine-id'), 'utf8')).toBe('');
    expect((await readFile(join(up, 'etc/fstab'), 'utf8')).startsWith('#')).toBe(true);
    // placeholder resolv.conf (a regular file) without an interface
    expect((await lstat(join(up, 'etc/resolv.conf'))).isFile()).toBe(true);
    const units = (await readdir(join(up, 'etc/systemd/system'))).sort();
    expect(units).toContain('data.mount');
    expect(units).toContain('swapfile.swap');
    expect(units).not.toContain('foo.service');
    expect(units).not.toContain('dir.automount'); // not a regular file
    expect(await readlink(join(up, 'etc/systemd/system/data.mount'))).toBe('/dev/null');
    expect(await readlink(join(up, 'etc/systemd/system/systemd-resolved.service'))).toBe('/dev/null');
    const st = await readState(L, name);
    expect(st.name).toBe('deb-template');
    expect(st.rootfs).toBe('');
    expect(st.opaqueDirs).toEqual(['/etc/systemd/system', '/var/log']);
    expect(st.created).toBeGreaterThan(1_600_000_000);
  });

  it('veth without a resolved mask: stub resolv.conf link', async () => {
    const spec = { ...emptyState('web-1'), privateNetwork: true, networkVeth: true };
    await createContainer(ctx, spec, opts());
    const up = ctx.layout.upper('web-1');
    expect(await readlink(join(up, 'etc/resolv.conf'))).toBe('../run/systemd/resolve/stub-resolv.conf');
  });

  it('zone: LLMNR drop-in', async () => {
    const spec = { ...emptyState('z1'), privateNetwork: true, networkZone: 'zz' };
    await createContainer(ctx, spec, opts());
    const text = await readFile(join(ctx.layout.upper('z1'), 'etc/systemd/resolved.conf.d/zone-llmnr.conf'), 'utf8');
    expect(text).toBe('[Resolve]\nLLMNR=yes\nMulticastDNS=yes\n');
  });

  it('refuses an existing name and invalid names before writing anything', async () => {
    await createContainer(ctx, emptyState('web'), opts());
    await expect(createContainer(ctx, emptyState('web'), opts())).rejects.toThrow("container 'web' already exists");
    for (const bad of ['Web', 'a/b', 'a..b', '-x', 'x'.repeat(65)]) {
      await expect(createContainer(ctx, emptyState(bad), opts())).rejects.toThrow(/invalid container name/);
    }
    expect(await readdir(ctx.layout.stateDir)).toEqual(['web']);
    expect(await readdir(ctx.layout.containersDir)).toEqual(['web']);
  });

  it('generates a name when none is given, skipping machined names', async () => {
    const name = await createContainer(ctx, emptyState(''), opts());
    expect(name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect((await readState(ctx.layout, name)).name).toBe(name);
  });

  it('missing rootfs: error and nothing written', async () => {
    await expect(createContainer(ctx, { ...emptyState('c1'), rootfs: 'nope' }, opts())).rejects.toThrow(
      "root filesystem 'nope' not found",
    );
    await expect(lstat(ctx.layout.stateFile('c1'))).rejects.toThrow();
    await expect(lstat(ctx.layout.containerDir('c1'))).rejects.toThrow();
  });

  it('a failure while building removes the claimed state file, the dir and the lock file', async () => {
    // an invalid masked service fails mid-build
    const spec = { ...emptyState('c2'), maskedServices: ['../evil'] };
    await expect(createContainer(ctx, spec, opts())).rejects.toThrow("invalid masked service '../evil'");
    await expect(lstat(ctx.layout.stateFile('c2'))).rejects.toThrow();
    await expect(lstat(ctx.layout.containerDir('c2'))).rejects.toThrow();
    await expect(lstat(ctx.layout.lockFile('containers', 'c2'))).rejects.toThrow(/ENOENT/);
  });

  it('missing rootfs leaves no lock file (containers/ or fs/)', async () => {
    await expect(createContainer(ctx, { ...emptyState('c3'), rootfs: 'nope' }, opts())).rejects.toThrow(
      "root filesystem 'nope' not found",
    );
    await expect(lstat(ctx.layout.lockFile('fs', 'nope'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(ctx.layout.lockFile('containers', 'c3'))).rejects.toThrow(/ENOENT/);
  });

  it('rootfs removed between the check and the shared lock: not found, no lock files left', async () => {
    const L = ctx.layout;
    await mkdir(join(L.fsPath('gone'), 'etc'), { recursive: true });
    // lock() #1 is containers/c4 (rootfs still there), #2 is fs/gone: remove it in between
    let calls = 0;
    lockTestHooks.afterOpen = () => {
      if (++calls === 2) rmSync(L.fsPath('gone'), { recursive: true });
    };
    try {
      await expect(createContainer(ctx, { ...emptyState('c4'), rootfs: 'gone' }, opts())).rejects.toThrow(
        "root filesystem 'gone' not found",
      );
    } finally {
      lockTestHooks.afterOpen = undefined;
    }
    expect(calls).toBe(3); // #3: removeLockFile re-locking fs/gone exclusively to unlink it
    await expect(lstat(L.lockFile('fs', 'gone'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(L.lockFile('containers', 'c4'))).rejects.toThrow(/ENOENT/);
    await expect(lstat(L.stateFile('c4'))).rejects.toThrow(/ENOENT/);
  });

  it('a refused duplicate keeps the existing container and its lock file', async () => {
    await createContainer(ctx, emptyState('dup'), opts());
    await expect(lstat(ctx.layout.lockFile('containers', 'dup'))).resolves.toBeTruthy();
    await expect(createContainer(ctx, emptyState('dup'), opts())).rejects.toThrow("container 'dup' already exists");
    await expect(lstat(ctx.layout.lockFile('containers', 'dup'))).resolves.toBeTruthy();
    expect((await readState(ctx.layout, 'dup')).name).toBe('dup');
  });

  it('10 concurrent creates of one name: exactly one wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => createContainer(ctx, emptyState('race'), opts())),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(String(r.reason)).toContain('already exists');
    }
    expect((await readState(ctx.layout, 'race')).name).toBe('race');
    expect(await readFile(join(ctx.layout.upper('race'), 'etc/hostname'), 'utf8')).toBe('race\n');
  });

  it('an empty state file left by a killed creator is cleaned up, then the create proceeds', async () => {
    const L = ctx.layout;
    await mkdir(L.stateDir, { recursive: true });
    await writeFile(L.stateFile('killed'), '');
    await mkdir(join(L.upper('killed'), 'etc'), { recursive: true });
    await writeFile(join(L.upper('killed'), 'etc/half-written'), 'x');
    expect(await createContainer(ctx, emptyState('killed'), opts())).toBe('killed');
    expect(notes).toContain("removing leftovers of an interrupted create of 'killed'");
    await expect(lstat(join(L.upper('killed'), 'etc/half-written'))).rejects.toThrow();
    expect((await readState(L, 'killed')).name).toBe('killed');
    // a complete state file is never treated as stale
    await expect(createContainer(ctx, emptyState('killed'), opts())).rejects.toThrow('already exists');
  });

  it('refuses a umask that hides files from services', async () => {
    const old = process.umask(0o027);
    try {
      await expect(createContainer(ctx, emptyState('um'), opts())).rejects.toThrow(/umask 0027/);
    } finally {
      process.umask(old);
    }
  });
});
