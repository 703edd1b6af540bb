/**
 * Host-clone lifecycle end to end, inside the sandbox host: create, start,
 * ps, exec, logs, stop, start again, rm (nothing left), unit verification,
 * restart x10.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/native/run.js';
import { DATADIR, cleanupContainers, inSandbox, sdme, uniqueName } from './helpers.js';

const PREFIX = 'lc';

function mountsMentioning(s: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(s));
}

function psRow(stdout: string, name: string): string[] | undefined {
  const line = stdout.split('\n').find((l) => l.split(/\s+/)[0] === name);
  return line?.split(/\s{2,}/);
}

/** Nothing of the container is left: dirs, state, drop-ins, mounts, unit. */
async function expectGone(name: string): Promise<void> {
  expect(existsSync(`${DATADIR}/containers/${name}`)).toBe(false);
  expect(existsSync(`${DATADIR}/state/${name}`)).toBe(false);
  expect(existsSync(`/etc/systemd/system/sdme@${name}.service.d`)).toBe(false);
  expect(mountsMentioning(`/containers/${name}/`)).toEqual([]);
  const u = await run('systemctl', ['show', '-p', 'LoadState,ActiveState', `sdme@${name}.service`]);
  expect(u.stdout).toContain('ActiveState=inactive');
}

beforeAll(() => {
  inSandbox();
});
afterAll(async () => {
  expect(await cleanupContainers(PREFIX)).toEqual([]);
});

describe('host-clone lifecycle', () => {
  it('create, start, ps, exec, logs, stop, start, rm', async () => {
    const name = uniqueName(PREFIX);
    const c = await sdme(['create', '--name', name]);
    expect(c.stderr).toContain(`creating '${name}'`);
    expect(c.stdout).toBe(`${name}\n`);
    expect(c.code).toBe(0);
    expect(readFileSync(`${DATADIR}/state/${name}`, 'utf8')).toContain(`NAME=${name}\n`);

    let ps = await sdme(['ps']);
    expect(psRow(ps.stdout, name)?.[1]).toBe('stopped');

    const s = await sdme(['start', name]);
    expect(s.stderr).toContain(`starting '${name}'`);
    expect([s.code, s.stdout]).toEqual([0, `${name}\n`]);
    ps = await sdme(['ps']);
    expect(psRow(ps.stdout, name)?.[1]).toBe('running');
    const json = JSON.parse((await sdme(['ps', '--json'])).stdout) as { name: string; status: string; os: string }[];
    const row = json.find((r) => r.name === name);
    expect(row?.status).toBe('running');
    expect(row?.os).toMatch(/Debian/);

    const h = await sdme(['exec', name, 'hostname']);
    expect([h.code, h.stdout]).toEqual([0, `${name}\n`]);
    // `--` between NAME and the command is a separator, not the command; later ones are the command's
    const dd = await sdme(['exec', name, '--', 'sh', '-c', 'echo "$@"', 'sh', '--', 'x']);
    expect([dd.code, dd.stdout]).toEqual([0, '-- x\n']);
    const j = await sdme(['join', name, '--', 'hostname']);
    expect([j.code, j.stdout]).toEqual([0, `${name}\n`]);
    expect((await sdme(['exec', name, '--'])).code).toBe(1);
    // exit code forwarded, stdin piped through
    expect((await sdme(['exec', name, 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await sdme(['exec', name, 'cat'], { input: 'piped-data' })).stdout).toBe('piped-data');

    const logs = await sdme(['logs', name, '--no-pager', '-n', '200']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/systemd-nspawn|Reached target|Started/);

    const st = await sdme(['stop', name]);
    expect([st.code, st.stdout]).toEqual([0, `${name}\n`]);
    expect(psRow((await sdme(['ps'])).stdout, name)?.[1]).toBe('stopped');
    expect(mountsMentioning(`/containers/${name}/merged`)).toEqual([]);
    // stopping a stopped container is an error
    const again = await sdme(['stop', name]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('some containers could not be stopped');

    expect((await sdme(['start', name])).code).toBe(0);
    expect((await sdme(['exec', name, 'hostname'])).stdout).toBe(`${name}\n`);

    const rm = await sdme(['rm', name]);
    expect([rm.code, rm.stdout]).toEqual([0, `${name}\n`]);
    await expectGone(name);
  });

  it('systemd-analyze verify accepts the template and the generated drop-in', async () => {
    const name = uniqueName(PREFIX);
    expect((await sdme(['create', '--name', name, '--memory', '512M', '--cpus', '0.5'])).code).toBe(0);
    expect((await sdme(['start', name])).code).toBe(0);
    const dropin = readFileSync(`/etc/systemd/system/sdme@${name}.service.d/nspawn.conf`, 'utf8');
    expect(dropin).toContain(`--machine=${name}`);
    expect(readFileSync(`/etc/systemd/system/sdme@${name}.service.d/limits.conf`, 'utf8')).toContain('MemoryMax=512M');
    const t = await run('systemd-analyze', ['verify', '/etc/systemd/system/sdme@.service']);
    expect([t.exitCode, t.stderr]).toEqual([0, '']);
    const i = await run('systemd-analyze', ['verify', `sdme@${name}.service`]);
    expect([i.exitCode, i.stderr]).toEqual([0, '']);
    // the unit systemd loaded really uses our ExecStart
    const show = await run('systemctl', ['show', '-p', 'ExecStart', `sdme@${name}.service`]);
    expect(show.stdout).toContain('systemd-nspawn');
    expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
  });

  it('new NAME -- CMD runs CMD in the new container and keeps it; a failing CMD removes it', async () => {
    const name = uniqueName(PREFIX);
    const n = await sdme(['new', '--name', name, '--', 'hostname']);
    expect([n.code, n.stdout]).toEqual([0, `${name}\n${name}\n`]);
    expect(psRow((await sdme(['ps'])).stdout, name)?.[1]).toBe('running');
    expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
    const bad = uniqueName(PREFIX);
    const f = await sdme(['new', '--name', bad, '--', 'sh', '-c', 'exit 3']);
    expect(f.code).toBe(3);
    expect(f.stderr).toContain(`join failed (exit code 3), removing '${bad}'`);
    await expectGone(bad);
  });

  it('restart 10 times in a row', async () => {
    const name = uniqueName(PREFIX);
    expect((await sdme(['create', '--name', name, '--started'])).code).toBe(0);
    for (let i = 0; i < 10; i++) {
      const r = await sdme(['restart', name]);
      expect([i, r.code, r.stdout, r.stderr]).toEqual([i, 0, `${name}\n`, `restarting '${name}'\n`]);
    }
    expect((await sdme(['exec', name, 'hostname'])).stdout).toBe(`${name}\n`);
    expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
    expect(readdirSync(`${DATADIR}/state`).filter((n) => n === name)).toEqual([]);
  });
});
