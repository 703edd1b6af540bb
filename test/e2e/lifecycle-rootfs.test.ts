/**
 * Imported-rootfs lifecycle end to end through the CLI, inside the sandbox host: `fs import` of the
 * debootstrap tarball fixture (built on the host by scripts/prepare-fixtures.mjs), `create -r`,
 * start, ps (OS from the imported root), exec, logs, stop, rm, then `fs rm` once no container uses it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBootableRootfs } from './fixtures.js';
import { DATADIR, cleanupContainers, inSandbox, sdme, uniqueName } from './helpers.js';

const PREFIX = 'lr';
const FS = uniqueName('lrfs');

beforeAll(() => {
  inSandbox();
});
afterAll(async () => {
  expect(await cleanupContainers(PREFIX)).toEqual([]);
  await sdme(['fs', 'rm', FS]);
});

describe('imported rootfs lifecycle', () => {
  // the fixture tarball is built on the host: a missing one fails under CI, skips locally with the reason
  it('fs import, create -r, start, ps, exec, logs, stop, rm, fs rm', async (t) => {
    const tarball = requireBootableRootfs(t);
    const imp = await sdme(['fs', 'import', tarball, '--name', FS], { timeoutMs: 240_000 });
    expect([imp.code, imp.stdout]).toEqual([0, `${FS}\n`]);
    const ls = JSON.parse((await sdme(['fs', 'ls', '--json'])).stdout) as { name: string; os: string; containers: string[] }[];
    expect(ls.find((r) => r.name === FS)?.os).toMatch(/Debian GNU\/Linux 12/);

    const name = uniqueName(PREFIX);
    expect((await sdme(['create', '--name', name, '-r', FS])).code).toBe(0);
    expect(readFileSync(`${DATADIR}/state/${name}`, 'utf8')).toContain(`ROOTFS=${FS}\n`);
    // the rootfs is in use now: fs rm is refused and nothing is removed
    const busy = await sdme(['fs', 'rm', FS]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`in use by container '${name}'`);
    expect(existsSync(`${DATADIR}/fs/${FS}`)).toBe(true);

    const s = await sdme(['start', '-t', '180', name], { timeoutMs: 240_000 });
    expect([s.code, s.stdout]).toEqual([0, `${name}\n`]);
    const ps = JSON.parse((await sdme(['ps', '--json'])).stdout) as { name: string; status: string; rootfs: string; os: string }[];
    const row = ps.find((r) => r.name === name);
    expect(row).toMatchObject({ status: 'running', rootfs: FS });
    expect(row?.os).toMatch(/Debian GNU\/Linux 12/);

    const h = await sdme(['exec', name, 'hostname']);
    expect([h.code, h.stdout]).toEqual([0, `${name}\n`]);
    // the container sees the imported root, not the host's: the fixture has no node binary
    expect((await sdme(['exec', name, 'sh', '-c', 'test -e /usr/bin/node; echo $?'])).stdout).toBe('1\n');
    const logs = await sdme(['logs', name, '--no-pager', '-n', '200']);
    expect(logs.stdout).toMatch(/Reached target|Started/);

    expect((await sdme(['stop', name])).code).toBe(0);
    expect((await sdme(['rm', name])).code).toBe(0);
    expect(existsSync(`${DATADIR}/containers/${name}`)).toBe(false);
    expect(existsSync(`${DATADIR}/state/${name}`)).toBe(false);

    const rmfs = await sdme(['fs', 'rm', FS]);
    expect([rmfs.code, rmfs.stdout]).toEqual([0, `${FS}\n`]);
    expect(existsSync(`${DATADIR}/fs/${FS}`)).toBe(false);
  });
});
