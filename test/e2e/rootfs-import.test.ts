/**
 * fs import end to end, inside the sandbox host: the bootable fixture tarball
 * (zstd, and recompressed as gzip under a misleading name) is imported with
 * the engine, compared entry by entry with GNU tar's own extraction, listed,
 * booted with systemd-nspawn as a transient unit, and removed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/native/run.js';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import type { Ctx } from '../../src/engine/context.js';
import { importRootfs } from '../../src/engine/rootfs/import.js';
import { listRootfs } from '../../src/engine/rootfs/list.js';
import { removeRootfs } from '../../src/engine/rootfs/remove.js';
import { buildBootableRootfsTarball, FIXTURE_OS } from './fixtures.js';

// under /var/lib/sdme: a real filesystem inside the sandbox (bind), not the overlay
const base = existsSync('/var/lib/sdme') ? '/var/lib/sdme' : '/var/tmp';
const work = mkdtempSync(join(base, 'e2e-rootfs-'));
const datadir = join(work, 'data');
const ctx: Ctx = {
  config: { ...defaultConfig(), datadir },
  configPath: join(work, 'sdme.conf'),
  layout: layout(datadir),
  note: () => {},
  verbose: false,
};
const tarball = join(work, 'fixture.tar.zst');
const unit = `e2e-rootfs-boot-${process.pid}`;

afterAll(async () => {
  await run('systemctl', ['stop', `${unit}.service`], { timeoutMs: 60_000 });
  rmSync(work, { recursive: true, force: true });
});

async function sh(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('rootfs import (e2e)', () => {
  it('fixture: builds or reuses the bootable rootfs tarball', async () => {
    const r = await buildBootableRootfsTarball(tarball);
    console.log(`fixture ready in ${r.ms} ms (cached: ${r.cached})`);
    expect(existsSync(tarball)).toBe(true);
  });

  it('imports it and matches GNU tar entry by entry', async () => {
    expect(await importRootfs(ctx, tarball, { name: 'deb' })).toBe('deb');
    const ref = join(work, 'ref');
    await sh('mkdir', ['-p', ref]);
    await sh('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', tarball, '-C', ref]);
    const listing = (d: string) => sh('sh', ['-c', `cd "$1" && find . ! -type d -printf '%p %U %G %m %y %s %l %n %Ts\\n' | sort`, 'sh', d]);
    expect(await listing(ctx.layout.fsPath('deb'))).toBe(await listing(ref));
    const rows = await listRootfs(ctx);
    expect(rows.map((r) => [r.name, r.os])).toEqual([['deb', FIXTURE_OS]]);
  });

  it('gzip content under a .xz name imports too', async () => {
    const gz = join(work, 'misnamed.tar.xz');
    await sh('sh', ['-c', 'zstd -dc "$1" | gzip -1 > "$2"', 'sh', tarball, gz]);
    expect(await importRootfs(ctx, gz, { name: 'deb-gz' })).toBe('deb-gz');
    expect((await listRootfs(ctx)).find((r) => r.name === 'deb-gz')?.os).toBe(FIXTURE_OS);
  });

  it('the imported rootfs boots to multi-user.target', async () => {
    await sh('systemd-run', [
      `--unit=${unit}`,
      '--property=KillMode=mixed',
      'systemd-nspawn',
      '-D',
      ctx.layout.fsPath('deb-gz'),
      '--boot',
      '--private-network',
      `--machine=${unit}`,
    ]);
    let state = '';
    for (let i = 0; i < 60 && !['running', 'degraded'].includes(state); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      state = (await run('systemctl', [`--machine=${unit}`, 'is-system-running'], { timeoutMs: 10_000 })).stdout.trim();
    }
    expect(['running', 'degraded']).toContain(state);
    await run('systemctl', ['stop', `${unit}.service`], { timeoutMs: 60_000 });
  });

  it('fs rm removes both', async () => {
    expect(await removeRootfs(ctx, 'deb')).toBe(true);
    expect(await removeRootfs(ctx, 'deb-gz')).toBe(true);
    expect(await listRootfs(ctx)).toEqual([]);
  });
});
