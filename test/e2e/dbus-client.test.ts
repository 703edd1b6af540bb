/**
 * Runs inside the sandbox host (booted systemd, /var/lib/sdme on a real fs).
 * Exercises SystemdClient against the real PID 1 and machined (dbus-job-signals.md).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, spawnStream } from '../../src/native/run.js';
import { SystemdClient, type JobOutcome } from '../../src/engine/systemd/dbus.js';
import { waitForBoot, waitForShutdown } from '../../src/engine/systemd/bootwait.js';
import { readJournal } from '../../src/engine/systemd/journal.js';

const UNIT_DIR = '/run/systemd/system';
const units: Record<string, string> = {
  'sdme-e2e-true.service': '[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/true\n',
  'sdme-e2e-false.service': '[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/false\n',
  'sdme-e2e-sleep@.service': '[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sleep infinity\n',
};

let client: SystemdClient;

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const r = await f();
  return [r, Date.now() - t0];
}

beforeAll(async () => {
  for (const [n, t] of Object.entries(units)) writeFileSync(`${UNIT_DIR}/${n}`, t);
  client = await SystemdClient.connect();
  await client.reload();
});

afterAll(async () => {
  await run('systemctl', ['stop', 'sdme-e2e-sleep@*.service', 'sdme-e2e-nspawn.service'], { timeoutMs: 60_000 });
  for (const n of Object.keys(units)) rmSync(`${UNIT_DIR}/${n}`, { force: true });
  await run('systemctl', ['reset-failed'], { timeoutMs: 30_000 });
  await client.reload();
  client.close();
});

describe('SystemdClient against the sandbox systemd', () => {
  it('version() matches systemctl --version', async () => {
    const r = await run('systemctl', ['--version']);
    const want = Number(/^systemd (\d+)/.exec(r.stdout)![1]);
    expect(await client.version()).toBe(want);
  });

  it('failing oneshot 50x: every start returns failed within a bound; no rule/listener pile-up', async () => {
    const first = await client.startUnit('sdme-e2e-false.service', { timeoutMs: 10_000 });
    expect(first).toMatchObject({ result: 'failed', activeState: 'failed', unitResult: 'exit-code' });
    const base = client.stats();
    const seenJobs = new Set<string>([first.job]);
    for (let i = 0; i < 50; i++) {
      const [r, ms] = await timed(() => client.startUnit('sdme-e2e-false.service', { timeoutMs: 10_000 }));
      expect(r.result).toBe('failed');
      expect(r.activeState).toBe('failed');
      expect(r.unit).toBe('sdme-e2e-false.service');
      expect(ms).toBeLessThan(5000);
      seenJobs.add(r.job);
    }
    expect(seenJobs.size).toBe(51);
    expect(client.stats()).toEqual(base);
    expect(base).toMatchObject({ addMatchCalls: 1, matchRules: 1, subscribeCalls: 1, jobWaiters: 0, earlyJobs: 0, pendingCalls: 0 });
    expect(base.messageListeners).toBe(1);
  });

  it('succeeding oneshot 50x: done, ends inactive', async () => {
    for (let i = 0; i < 50; i++) {
      const [r, ms] = await timed(() => client.startUnit('sdme-e2e-true.service', { timeoutMs: 10_000 }));
      expect(r.result).toBe('done');
      // inactive, or already unloaded ('') by systemd's garbage collection
      expect(['inactive', '']).toContain(r.activeState);
      if (r.activeState === 'inactive') expect(r.unitResult).toBe('success');
      expect(ms).toBeLessThan(5000);
    }
  });

  it('start/stop 50x while another process runs daemon-reload in a loop', async () => {
    const ac = new AbortController();
    const loop = spawnStream('sh', ['-c', 'while :; do systemctl daemon-reload; done'], { signal: ac.signal });
    const via: Record<string, number> = {};
    try {
      for (let i = 0; i < 50; i++) {
        const unit = 'sdme-e2e-sleep@reload.service';
        const [s, sms] = await timed(() => client.startUnit(unit, { timeoutMs: 20_000 }));
        expect(s.result, `start #${i} via ${s.via}`).toBe('done');
        expect(s.activeState).toBe('active');
        expect(sms).toBeLessThan(15_000);
        const [t, tms] = await timed(() => client.stopUnit(unit, { timeoutMs: 20_000 }));
        expect(t.result, `stop #${i} via ${t.via}`).toBe('done');
        expect(['inactive', '']).toContain(t.activeState);
        expect(tms).toBeLessThan(15_000);
        via[s.via] = (via[s.via] ?? 0) + 1;
        via[t.via] = (via[t.via] ?? 0) + 1;
      }
    } finally {
      ac.abort();
      await loop.done;
    }
    console.log('decided via', via);
    expect(client.stats()).toMatchObject({ addMatchCalls: 1, jobWaiters: 0, earlyJobs: 0, pendingCalls: 0 });
  });

  it('10 concurrent starts are each credited to their own job', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `sdme-e2e-sleep@c${i}.service`);
    const rs: JobOutcome[] = await Promise.all(names.map((u) => client.startUnit(u, { timeoutMs: 20_000 })));
    expect(rs.map((r) => r.unit)).toEqual(names);
    expect(rs.map((r) => r.result)).toEqual(names.map(() => 'done'));
    expect(new Set(rs.map((r) => r.job)).size).toBe(10);
    const states = await client.unitStates(['sdme-e2e-sleep@c*.service']);
    expect([...states.keys()].sort()).toEqual([...names].sort());
    expect([...states.values()].every((s) => s.activeState === 'active' && s.subState === 'running')).toBe(true);
    const stops = await Promise.all(names.map((u) => client.stopUnit(u, { timeoutMs: 20_000 })));
    expect(stops.map((r) => `${r.unit}:${r.result}:${r.activeState || 'inactive'}`)).toEqual(names.map((n) => `${n}:done:inactive`));
  });

  it('every JobRemoved lost: jobs are decided by polling the job object and unit state', async () => {
    const blind = await SystemdClient.connect({ ignoreJobSignals: true });
    try {
      const f = await blind.startUnit('sdme-e2e-false.service', { timeoutMs: 10_000 });
      expect(f).toMatchObject({ result: 'failed', activeState: 'failed', unitResult: 'exit-code', via: 'poll' });
      const t = await blind.startUnit('sdme-e2e-true.service', { timeoutMs: 10_000 });
      expect(t).toMatchObject({ result: 'done', via: 'poll' });
      const s = await blind.startUnit('sdme-e2e-sleep@blind.service', { timeoutMs: 10_000 });
      expect(s).toMatchObject({ result: 'done', activeState: 'active', via: 'poll' });
      const [p, ms] = await timed(() => blind.stopUnit('sdme-e2e-sleep@blind.service', { timeoutMs: 10_000 }));
      expect(p).toMatchObject({ result: 'done', via: 'poll' });
      expect(ms).toBeLessThan(3000);
      expect(blind.stats()).toMatchObject({ jobWaiters: 0, earlyJobs: 0, pendingCalls: 0 });
    } finally {
      blind.close();
    }
  });

  it('unit helpers: not-loaded units, reset-failed, properties', async () => {
    expect(await client.unitProperty('sdme-e2e-nope.service', 'ActiveState')).toBeUndefined();
    expect((await client.unitStates(['sdme-e2e-nope*.service'])).size).toBe(0);
    expect((await client.unitStates([])).size).toBe(0);
    expect(await client.stopUnit('sdme-e2e-nope.service')).toMatchObject({ result: 'done', activeState: '' });
    await client.resetFailedUnit('sdme-e2e-nope.service');
    expect((await client.startUnit('sdme-e2e-false.service', { timeoutMs: 10_000 })).result).toBe('failed');
    expect(await client.unitProperty('sdme-e2e-false.service', 'ActiveState')).toBe('failed');
    await client.resetFailedUnit('sdme-e2e-false.service');
    expect(['inactive', undefined]).toContain(await client.unitProperty('sdme-e2e-false.service', 'ActiveState'));
  });

  it('machined errors for a machine that does not exist', async () => {
    await expect(client.killMachine('sdme-e2e-nope', 'leader', 37)).rejects.toThrow("container 'sdme-e2e-nope' is not running");
    await expect(client.terminateMachine('sdme-e2e-nope')).rejects.toThrow("container 'sdme-e2e-nope' is not running");
    await expect(client.getMachine('sdme-e2e-nope')).rejects.toThrow("container 'sdme-e2e-nope' is not running");
    expect(await client.machineState('sdme-e2e-nope')).toBeUndefined();
    expect(await client.machineAddresses('sdme-e2e-nope')).toEqual([]);
    const [r, ms] = await timed(() => waitForBoot(client, 'sdme-e2e-nope', { timeoutMs: 1000 }));
    expect(r).toBe('timeout');
    expect(ms).toBeLessThan(2500);
    expect(client.stats().machineListeners).toBe(0);
  });
});

describe('journal with odd messages (journal-odd-messages.md)', () => {
  it('history and follow: every entry, in order, decoded', async () => {
    const unit = `sdme-e2e-odd-${Date.now()}.service`; // fresh unit: no earlier runs in its history
    const script =
      "printf 'plain\\n'; printf 'cr-at-end\\r\\n'; printf '\\033[32mgreen \\033[0m\\n'; printf '\\377\\376 bad\\n'; " +
      "head -c 10000 /dev/zero | tr '\\0' x; printf '\\n'; printf 'before-sleep\\n'; sleep 1; printf 'after-sleep\\n'; sleep 30";
    const ac = new AbortController();
    const r = await run('systemd-run', [`--unit=${unit}`, '--collect', 'sh', '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    const got: string[] = [];
    try {
      for await (const e of readJournal({ unit, follow: true, lines: 100, signal: ac.signal })) {
        if (e.identifier !== 'sh') continue;
        got.push(e.message);
        if (e.message === 'after-sleep') ac.abort();
      }
    } finally {
      await run('systemctl', ['stop', unit]);
    }
    expect(got).toEqual(['plain', 'cr-at-end', '\x1b[32mgreen \x1b[0m', '\uFFFD\uFFFD bad', 'x'.repeat(10000), 'before-sleep', 'after-sleep']);
  });
});

describe('bus-side match rules', () => {
  it('dbus-daemon sees exactly our 3 rules after many waits (JobRemoved, MachineNew, MachineRemoved)', async () => {
    for (let i = 0; i < 20; i++) {
      await client.startUnit('sdme-e2e-true.service', { timeoutMs: 10_000 });
      expect(await waitForBoot(client, 'sdme-e2e-nope', { timeoutMs: 30 })).toBe('timeout');
      expect(await waitForShutdown(client, 'sdme-e2e-nope', 'sdme-e2e-nope.service', { timeoutMs: 1000 })).toBe('stopped');
    }
    const r = await run('busctl', ['--json=short', 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.Debug.Stats', 'GetConnectionStats', 's', client.uniqueName!]);
    expect(r.exitCode, r.stderr).toBe(0);
    const stats = JSON.parse(r.stdout).data[0] as Record<string, { data: number }>;
    expect(stats.MatchRules!.data).toBe(3);
    expect(stats.PeakMatchRules!.data).toBe(3);
    expect(client.stats()).toMatchObject({ matchRules: 3, addMatchCalls: 3, machineListeners: 0, jobWaiters: 0 });
  });
});

describe('boot and shutdown waits with a real nested container', () => {
  const base = '/var/lib/sdme/e2e-dbus-client';
  const name = 'sdme-e2e-bw';
  const unit = 'sdme-e2e-nspawn.service';

  beforeAll(async () => {
    for (const d of ['upper/etc/systemd/system', 'upper/var/log', 'work', 'merged']) mkdirSync(`${base}/${d}`, { recursive: true });
    for (const d of ['upper/etc/systemd/system', 'upper/var/log']) {
      const r = await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', `${base}/${d}`]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const m = await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${base}/upper,workdir=${base}/work`, `${base}/merged`]);
    expect(m.exitCode, m.stderr).toBe(0);
  });

  afterAll(async () => {
    await run('systemctl', ['stop', unit], { timeoutMs: 60_000 });
    await run('systemctl', ['reset-failed', unit], { timeoutMs: 10_000 });
    await run('umount', [`${base}/merged`]);
    rmSync(base, { recursive: true, force: true });
  });

  it('waitForBoot ready, machine facts, stop via KillMachine, waitForShutdown stopped, journal readable', async () => {
    const events: string[] = [];
    const off = await client.onMachineEvent((ev) => ev.name === name && events.push(ev.type));
    const r = await run('systemd-run', [
      `--unit=${unit}`,
      '--property=KillMode=mixed',
      '--property=Delegate=yes',
      'systemd-nspawn',
      '-D',
      `${base}/merged`,
      '--boot',
      '--keep-unit',
      `--machine=${name}`,
      '--private-network',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const [boot, ms] = await timed(() => waitForBoot(client, name, { timeoutMs: 60_000 }));
    expect(boot).toBe('ready');
    expect(ms).toBeLessThan(60_000);
    expect(await client.machineState(name)).toBe('running');
    const leader = await client.machineLeader(name);
    expect(leader).toBeGreaterThan(1);
    expect((await client.listMachines()).map((m) => m.name)).toContain(name);
    const probe = await run('systemctl', [`--machine=${name}`, 'is-system-running', '--wait'], { timeoutMs: 60_000 });
    expect(['running', 'degraded']).toContain(probe.stdout.trim());

    await client.killMachine(name, 'leader', 37); // SIGRTMIN+3: halt
    const [down, dms] = await timed(() => waitForShutdown(client, name, unit, { timeoutMs: 60_000 }));
    expect(down).toBe('stopped');
    expect(dms).toBeLessThan(60_000);
    expect(await client.machineState(name)).toBeUndefined();
    const st = (await client.unitStates([unit])).get(unit);
    expect(st === undefined || st.activeState === 'inactive' || st.activeState === 'failed').toBe(true);
    off();
    expect(events).toEqual(['new', 'removed']);

    const lines: string[] = [];
    for await (const e of readJournal({ unit, lines: 200 })) lines.push(e.message);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => /Spawning container|systemd .* running in system mode|Reached target/.test(l))).toBe(true);
  });
});
