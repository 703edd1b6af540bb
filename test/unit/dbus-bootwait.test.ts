import { describe, expect, it } from 'vitest';
import { waitForBoot, waitForShutdown, type BootProbes, type WaitClient } from '../../src/engine/systemd/bootwait.js';
import type { MachineEvent, UnitState } from '../../src/engine/systemd/dbus.js';
import { InterruptedError } from '../../src/engine/errors.js';

/** Fake machined/systemd state driven by the test. */
class FakeClient implements WaitClient {
  state: string | undefined;
  leader = 4242;
  unit: UnitState | undefined = { loadState: 'loaded', activeState: 'active', subState: 'running' };
  listeners = new Set<(ev: MachineEvent) => void>();
  stateReads = 0;
  async onMachineEvent(cb: (ev: MachineEvent) => void) {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }
  async machineState() {
    this.stateReads++;
    return this.state;
  }
  async machineLeader() {
    return this.state === undefined ? undefined : this.leader;
  }
  async unitStates(p: readonly string[]) {
    return new Map(this.unit ? [[p[0]!, this.unit]] : []);
  }
  fire(type: 'new' | 'removed', name: string) {
    for (const l of [...this.listeners]) l({ type, name, path: `/m/${name}` });
  }
}

function fakeProbes(o: Partial<BootProbes> & { readyAfter?: number } = {}) {
  const seen: { foreign: boolean[]; tries: number; alive: boolean } = { foreign: [], tries: 0, alive: true };
  const p: BootProbes = {
    procExists: o.procExists ?? (() => seen.alive),
    foreignUserns: o.foreignUserns ?? (() => false),
    busReady: async (_n, _l, foreign) => {
      seen.foreign.push(foreign);
      seen.tries++;
      return seen.tries > (o.readyAfter ?? 0);
    },
  };
  return { p, seen };
}

const fast = { machinePollMs: 20, busPollMs: 10, unitPollMs: 10 };
const later = (ms: number, f: () => void) => setTimeout(f, ms);

describe('waitForBoot (fake client and probes)', () => {
  it('machine registers late (MachineNew wakes us), bus ready after 3 probes', async () => {
    const c = new FakeClient();
    const { p, seen } = fakeProbes({ readyAfter: 3 });
    const phases: string[] = [];
    later(50, () => {
      c.state = 'running';
      c.fire('new', 'web');
    });
    const r = await waitForBoot(c, 'web', { timeoutMs: 3000, probes: p, onProgress: (e) => phases.push(e.kind === 'phase' ? e.message : ''), ...fast, machinePollMs: 10_000 });
    expect(r).toBe('ready');
    expect(seen.tries).toBe(4);
    expect(phases).toEqual(["waiting for 'web' to register", "waiting for 'web' to boot"]);
    expect(c.listeners.size).toBe(0);
  });

  it('opening then running via polling', async () => {
    const c = new FakeClient();
    c.state = 'opening';
    later(60, () => (c.state = 'running'));
    const { p } = fakeProbes();
    expect(await waitForBoot(c, 'web', { timeoutMs: 3000, probes: p, ...fast })).toBe('ready');
    expect(c.stateReads).toBeGreaterThan(1);
  });

  it('never registered: timeout within the budget', async () => {
    const c = new FakeClient();
    const t0 = Date.now();
    expect(await waitForBoot(c, 'web', { timeoutMs: 300, probes: fakeProbes().p, ...fast })).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('MachineRemoved for our name -> exited; other names ignored', async () => {
    const c = new FakeClient();
    later(30, () => c.fire('removed', 'other'));
    later(60, () => c.fire('removed', 'web'));
    const t0 = Date.now();
    expect(await waitForBoot(c, 'web', { timeoutMs: 5000, probes: fakeProbes().p, ...fast, machinePollMs: 10_000 })).toBe('exited');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it.each(['closing', 'abandoned'])('state %s -> exited', async (st) => {
    const c = new FakeClient();
    c.state = st;
    expect(await waitForBoot(c, 'web', { timeoutMs: 2000, probes: fakeProbes().p, ...fast })).toBe('exited');
  });

  it('leader vanishes during the D-Bus phase -> exited', async () => {
    const c = new FakeClient();
    c.state = 'running';
    const { p, seen } = fakeProbes({ readyAfter: 1000 });
    later(50, () => (seen.alive = false));
    expect(await waitForBoot(c, 'web', { timeoutMs: 3000, probes: p, ...fast })).toBe('exited');
  });

  it('bus never ready -> timeout', async () => {
    const c = new FakeClient();
    c.state = 'running';
    expect(await waitForBoot(c, 'web', { timeoutMs: 200, probes: fakeProbes({ readyAfter: 1e9 }).p, ...fast })).toBe('timeout');
  });

  it('userns container: busReady is told the namespace is foreign', async () => {
    const c = new FakeClient();
    c.state = 'running';
    const { p, seen } = fakeProbes({ foreignUserns: () => true, readyAfter: 1 });
    expect(await waitForBoot(c, 'web', { timeoutMs: 2000, probes: p, ...fast })).toBe('ready');
    expect(seen.foreign).toEqual([true, true]);
  });

  it('abort -> InterruptedError promptly, listener removed', async () => {
    const c = new FakeClient();
    const ac = new AbortController();
    later(50, () => ac.abort());
    const t0 = Date.now();
    await expect(waitForBoot(c, 'web', { timeoutMs: 10_000, signal: ac.signal, probes: fakeProbes().p, machinePollMs: 5000 })).rejects.toBeInstanceOf(
      InterruptedError,
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(c.listeners.size).toBe(0);
  });
});

describe('waitForShutdown (fake client)', () => {
  it('MachineRemoved, then unit goes inactive', async () => {
    const c = new FakeClient();
    c.state = 'running';
    later(40, () => {
      c.state = undefined;
      c.fire('removed', 'web');
    });
    later(120, () => (c.unit = { loadState: 'loaded', activeState: 'inactive', subState: 'dead' }));
    const t0 = Date.now();
    expect(await waitForShutdown(c, 'web', 'sdme@web.service', { timeoutMs: 3000, ...fast, machinePollMs: 10_000 })).toBe('stopped');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    expect(c.listeners.size).toBe(0);
  });

  it.each([
    ['failed', { loadState: 'loaded', activeState: 'failed', subState: 'failed' }],
    ['not loaded', undefined],
  ])('machine already gone and unit %s -> stopped at once', async (_n, u) => {
    const c = new FakeClient();
    c.unit = u;
    expect(await waitForShutdown(c, 'web', 'sdme@web.service', { timeoutMs: 1000, ...fast })).toBe('stopped');
  });

  it('machine stays -> timeout', async () => {
    const c = new FakeClient();
    c.state = 'running';
    expect(await waitForShutdown(c, 'web', 'sdme@web.service', { timeoutMs: 150, ...fast })).toBe('timeout');
  });

  it('unit stuck deactivating -> timeout', async () => {
    const c = new FakeClient();
    c.unit = { loadState: 'loaded', activeState: 'deactivating', subState: 'stop-post' };
    expect(await waitForShutdown(c, 'web', 'sdme@web.service', { timeoutMs: 150, ...fast })).toBe('timeout');
  });
});
