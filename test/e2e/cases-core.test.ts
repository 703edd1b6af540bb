/**
 * Cases from /work/shared/cases: names-hyphens, concurrent-create,
 * rm-busy-mount, dbus-job-signals. Run inside the sandbox host.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/native/run.js';
import { DATADIR, SDME_BIN, cleanupContainers, inSandbox, sdme, uniqueName, waitFor } from './helpers.js';

const CANARY = '/tmp/sdme-canary';
const NAMED = ['deb-template', 'a-b-c', 'web-1', 'a--b'];
const LONG = `${'nh-ab-'.repeat(11)}nh`.slice(0, 64);

function ls(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${dir}/`) || m === dir);
}

/** The on-disk + systemd footprint of sdme (for "nothing was written" checks). */
function footprint(): string {
  return JSON.stringify({
    state: ls(`${DATADIR}/state`),
    containers: ls(`${DATADIR}/containers`),
    units: ls('/etc/systemd/system').filter((n) => n.startsWith('sdme')),
  });
}

/** Either fully there (state, dir, listed by ps) or not at all. */
async function expectWholeOrAbsent(name: string): Promise<'present' | 'absent'> {
  const state = existsSync(`${DATADIR}/state/${name}`);
  const dir = existsSync(`${DATADIR}/containers/${name}`);
  expect({ name, state, dir }).toEqual({ name, state: dir, dir });
  const ps = JSON.parse((await sdme(['ps', '--json'])).stdout) as { name: string; health: string }[];
  const row = ps.find((r) => r.name === name);
  if (!state) {
    expect(row).toBeUndefined();
    return 'absent';
  }
  expect(readFileSync(`${DATADIR}/state/${name}`, 'utf8')).toContain(`NAME=${name}\n`);
  expect(readFileSync(`${DATADIR}/containers/${name}/upper/etc/hostname`, 'utf8')).toBe(`${name}\n`);
  expect(row?.health).toBe('ok');
  return 'present';
}

async function expectGone(name: string): Promise<void> {
  expect(existsSync(`${DATADIR}/state/${name}`)).toBe(false);
  expect(existsSync(`${DATADIR}/containers/${name}`)).toBe(false);
  expect(existsSync(`/etc/systemd/system/sdme@${name}.service.d`)).toBe(false);
  expect(mountsUnder(`${DATADIR}/containers/${name}`)).toEqual([]);
}

async function rmAll(names: string[]): Promise<void> {
  for (const n of names) if (existsSync(`${DATADIR}/state/${n}`)) await sdme(['rm', '-f', n]);
}

beforeAll(async () => {
  inSandbox();
  await rmAll([...NAMED, LONG, 'trail-']);
});
afterAll(async () => {
  await rmAll([...NAMED, LONG, 'trail-']);
  for (const p of ['cc', 'rb', 'js']) expect(await cleanupContainers(p)).toEqual([]);
});

// ------------------------------------------------------------------ names-hyphens
describe('case names-hyphens', () => {
  for (const name of [...NAMED, LONG]) {
    it(`'${name}' (${name.length} chars): start, machine name, exec, logs, stop, rm`, async () => {
      expect((await sdme(['create', '--name', name])).code).toBe(0);
      const s = await sdme(['start', name]);
      expect([s.code, s.stdout]).toEqual([0, `${name}\n`]);
      // machined knows the machine under exactly this name (no `-` -> `/` unescaping)
      const m = await run('machinectl', ['show', name, '-p', 'Name', '--value']);
      expect(Buffer.from(m.stdout.trim())).toEqual(Buffer.from(name));
      const list = await run('machinectl', ['list', '--no-legend', '--no-pager']);
      expect(list.stdout.split('\n').map((l) => l.split(/\s+/)[0])).toContain(name);
      const unit = await run('systemctl', ['show', '-p', 'Id,ActiveState', `sdme@${name}.service`]);
      expect(unit.stdout).toContain(`Id=sdme@${name}.service\n`);
      expect(unit.stdout).toContain('ActiveState=active');
      const h = await sdme(['exec', name, 'hostname']);
      expect([h.code, h.stdout]).toEqual([0, `${name}\n`]);
      const logs = await sdme(['logs', name, '--no-pager', '-n', '20']);
      expect(logs.code).toBe(0);
      expect(logs.stdout.length).toBeGreaterThan(0);
      expect((await sdme(['stop', name])).code).toBe(0);
      const r = await sdme(['rm', name]);
      expect([r.code, r.stdout]).toEqual([0, `${name}\n`]);
      await expectGone(name);
    });
  }

  it('invalid names are refused before anything is written', async () => {
    const before = footprint();
    // 'trail-': nspawn refuses it as a machine name ("Invalid machine name"), so sdme must refuse it up front
    for (const bad of ['trail-', 'bad..name', 'a/b', 'x'.repeat(65), 'Upper', '-lead', '9lives', 'a.b', 'a b']) {
      const r = await sdme(['create', '--name', bad]);
      expect([bad, r.code]).toEqual([bad, 1]);
      expect(r.stderr).toMatch(/^Error: invalid container name/m);
      expect(r.stdout).toBe('');
    }
    expect(footprint()).toBe(before);
    // start/rm of an empty name resolve nothing
    expect((await sdme(['start', ''])).code).toBe(1);
    expect(footprint()).toBe(before);
  });

  it("an empty --name generates a valid one", async () => {
    const r = await sdme(['create', '--name', '']);
    expect(r.code).toBe(0);
    const name = r.stdout.trim();
    expect(name).toMatch(/^[a-z][a-z0-9-]{0,63}$/);
    expect(r.stderr).toContain(`creating '${name}'`);
    expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
  });
});

// ------------------------------------------------------------------ concurrent-create
describe('case concurrent-create', () => {
  for (const n of [2, 10]) {
    it(`${n} parallel creates of one name: exactly one wins (3 rounds)`, async () => {
      for (let round = 0; round < 3; round++) {
        const name = uniqueName('cc');
        const rs = await Promise.all(Array.from({ length: n }, () => sdme(['create', '--name', name])));
        const ok = rs.filter((r) => r.code === 0);
        expect(ok).toHaveLength(1);
        expect(ok[0]!.stdout).toBe(`${name}\n`);
        for (const r of rs.filter((x) => x.code !== 0)) expect(r.stderr).toContain('already exists');
        expect(await expectWholeOrAbsent(name)).toBe('present');
        expect((await sdme(['rm', name])).code).toBe(0);
        await expectGone(name);
      }
    });
  }

  it('create in parallel with rm: whole or absent, never half', async () => {
    for (let i = 0; i < 6; i++) {
      const name = uniqueName('cc');
      const [c, r] = await Promise.all([
        sdme(['create', '--name', name]),
        new Promise((res) => setTimeout(res, i * 60)).then(() => sdme(['rm', name])),
      ]);
      expect(c.code).toBe(0);
      const st = await expectWholeOrAbsent(name);
      // rm either removed the finished container or found nothing / the create's lock
      if (r.code === 0) expect(st).toBe('absent');
      else expect(r.stderr).toMatch(/no container found|does not exist|cannot lock/);
      if (st === 'present') expect((await sdme(['rm', name])).code).toBe(0);
      await expectGone(name);
    }
  });

  it('a creator killed with SIGKILL half-way leaves nothing that blocks the next command', async () => {
    for (const delay of [250, 400, 550, 700, 900]) {
      const name = uniqueName('cc');
      const child = spawn(process.execPath, [SDME_BIN, 'create', '--name', name], { stdio: 'ignore' });
      const exited = new Promise((res) => child.once('exit', res));
      await new Promise((res) => setTimeout(res, delay));
      child.kill('SIGKILL');
      await exited;
      // the next create either reports the finished container or cleans up and succeeds
      const again = await sdme(['create', '--name', name]);
      if (again.code !== 0) expect(again.stderr).toContain('already exists');
      expect(await expectWholeOrAbsent(name)).toBe('present');
      const r = await sdme(['rm', name]);
      expect([r.code, r.stderr]).toEqual([0, `removing '${name}'\n`]);
      await expectGone(name);
    }
  });
});

// ------------------------------------------------------------------ rm-busy-mount
describe('case rm-busy-mount', () => {
  function setCanary(): void {
    rmSync(CANARY, { recursive: true, force: true });
    mkdirSync(CANARY);
    writeFileSync(`${CANARY}/secret`, 'ORIGINAL');
  }
  function expectCanary(): void {
    expect(ls(CANARY)).toEqual(['secret']);
    expect(readFileSync(`${CANARY}/secret`, 'utf8')).toBe('ORIGINAL');
  }
  async function started(): Promise<string> {
    const name = uniqueName('rb');
    expect((await sdme(['create', '--name', name, '--started'])).code).toBe(0);
    return name;
  }
  /** rm succeeds, or fails with a clear message and succeeds once the holder is gone. */
  async function rmWithRetry(name: string, release: () => Promise<void>): Promise<void> {
    const r = await sdme(['rm', name]);
    if (r.code !== 0) {
      expect(r.stderr).toMatch(/^Error: some containers could not be removed/m);
      expect(r.stderr).toMatch(/error: .*(refusing to remove|busy|did not stop)/);
    }
    await release();
    if (r.code !== 0) expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
    // the name can be reused
    expect((await sdme(['create', '--name', name])).code).toBe(0);
    expect((await sdme(['rm', name])).code).toBe(0);
  }

  it('(a) a host shell sits in the merged dir', async () => {
    setCanary();
    const name = await started();
    const merged = `${DATADIR}/containers/${name}/merged`;
    const sh = spawn('sleep', ['600'], { cwd: merged, stdio: 'ignore' });
    await waitFor(() => readFileSync(`/proc/${sh.pid}/stat`, 'utf8').length > 0, 5000);
    await rmWithRetry(name, async () => {
      const gone = new Promise((res) => sh.once('exit', res));
      sh.kill('SIGKILL');
      await gone;
    });
    expectCanary();
  });

  it('(b) another mount namespace holds a copy of the mount', async () => {
    setCanary();
    const name = await started();
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
    await waitFor(() => readFileSync(`/proc/${holder.pid}/mountinfo`, 'utf8').includes(`/containers/${name}/merged`), 5000);
    await rmWithRetry(name, async () => {
      holder.kill('SIGKILL');
      await new Promise((res) => holder.once('exit', res));
    });
    expectCanary();
  });

  it('(c) nspawn was killed with SIGKILL', async () => {
    setCanary();
    const name = await started();
    const pid = (await run('systemctl', ['show', '-p', 'MainPID', '--value', `sdme@${name}.service`])).stdout.trim();
    expect(Number(pid)).toBeGreaterThan(1);
    process.kill(Number(pid), 'SIGKILL');
    await rmWithRetry(name, async () => {});
    expectCanary();
  });

  it('(d) a host dir with a canary is bind-mounted under the container dir', async () => {
    setCanary();
    const name = await started();
    expect((await sdme(['stop', name])).code).toBe(0);
    const target = `${DATADIR}/containers/${name}/upper/mnt-canary`;
    mkdirSync(target);
    expect((await run('mount', ['--bind', CANARY, target])).exitCode).toBe(0);
    await rmWithRetry(name, async () => {
      await run('umount', [target]);
    });
    expectCanary();
    // and the same while the container runs
    const name2 = await started();
    const target2 = `${DATADIR}/containers/${name2}/canary-mnt`;
    mkdirSync(target2);
    expect((await run('mount', ['--bind', CANARY, target2])).exitCode).toBe(0);
    await rmWithRetry(name2, async () => {
      await run('umount', [target2]);
    });
    expectCanary();
  });
});

// ------------------------------------------------------------------ dbus-job-signals
describe('case dbus-job-signals', () => {
  it('a start that fails at once, 50 times, during a daemon-reload loop: every call returns, correctly', async () => {
    const name = uniqueName('js');
    const src = `/tmp/${name}-bind`;
    mkdirSync(src);
    expect((await sdme(['create', '--name', name, '-b', `${src}:/mnt/x`])).code).toBe(0);
    rmSync(src, { recursive: true }); // nspawn now fails at once: bind source missing
    let reloading = true;
    let reloads = 0;
    const loop = (async () => {
      while (reloading) {
        await run('systemctl', ['daemon-reload'], { timeoutMs: 60_000 });
        reloads++;
      }
    })();
    try {
      for (let i = 0; i < 50; i++) {
        const t0 = Date.now();
        const r = await sdme(['start', '-t', '20', name], { timeoutMs: 60_000 });
        expect([i, r.code]).toEqual([i, 1]);
        expect(r.stderr).toContain(`error: ${name}:`);
        expect(r.stderr).toContain('some containers could not be started');
        expect(Date.now() - t0).toBeLessThan(30_000);
      }
    } finally {
      reloading = false;
      await loop;
    }
    expect(reloads).toBeGreaterThan(5);
    // a healthy container still starts and stops correctly with the reload loop over
    expect((await sdme(['rm', name])).code).toBe(0);
    await expectGone(name);
  });

  // 50 start/stop rounds under a reload loop run at the D-Bus layer in dbus-client.test.ts (cheap units);
  // here 10 rounds with real containers through the CLI, then 10 containers at once (as the case asks)
  it('start and stop 10 times while daemon-reload loops; 10 containers start at once', async () => {
    const name = uniqueName('js');
    expect((await sdme(['create', '--name', name])).code).toBe(0);
    let reloading = true;
    const loop = (async () => {
      while (reloading) await run('systemctl', ['daemon-reload'], { timeoutMs: 60_000 });
    })();
    try {
      for (let i = 0; i < 10; i++) {
        let t0 = Date.now();
        const s = await sdme(['start', name], { timeoutMs: 90_000 });
        expect([i, 'start', s.code, s.stderr]).toEqual([i, 'start', 0, `starting '${name}'\n`]);
        expect(Date.now() - t0).toBeLessThan(60_000);
        t0 = Date.now();
        const t = await sdme(['stop', name], { timeoutMs: 120_000 });
        expect([i, 'stop', t.code]).toEqual([i, 'stop', 0]);
        expect(Date.now() - t0).toBeLessThan(60_000);
      }
    } finally {
      reloading = false;
      await loop;
    }
    const many = Array.from({ length: 10 }, () => uniqueName('js'));
    for (const n of many) expect((await sdme(['create', '--name', n])).code).toBe(0);
    const rs = await Promise.all(many.map((n) => sdme(['start', n], { timeoutMs: 180_000 })));
    expect(rs.map((r) => r.code)).toEqual(many.map(() => 0));
    for (const n of many) expect((await sdme(['exec', n, 'hostname'])).stdout).toBe(`${n}\n`);
    const rm = await sdme(['rm', name, ...many], { timeoutMs: 300_000 });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe([name, ...many].map((n) => `${n}\n`).join(''));
    for (const n of [name, ...many]) await expectGone(n);
  });
});
