import { describe, expect, it } from 'vitest';
import { bootProgress, startPhase } from '../../src/engine/containers/start.js';
import { waitForBoot, type WaitClient } from '../../src/engine/systemd/bootwait.js';
import type { ProgressEvent } from '../../src/engine/types.js';

describe('start progress phases', () => {
  it('names the steps of a start', () => {
    expect([startPhase.units, startPhase.startUnit('web'), startPhase.registered('web'), startPhase.systemdInside('web')]).toEqual([
      'writing unit files',
      'starting sdme@web.service',
      "machine 'web' registered",
      "waiting for systemd inside 'web'",
    ]);
  });

  it("maps waitForBoot's phases (fake machined client, fake probes): registration, then systemd inside", async () => {
    let state: string | undefined;
    const client: WaitClient = {
      onMachineEvent: async () => () => undefined,
      machineState: async () => state,
      machineLeader: async () => 4242,
      unitStates: async () => new Map(),
    };
    setTimeout(() => (state = 'running'), 30);
    const events: ProgressEvent[] = [];
    let probes = 0;
    const r = await waitForBoot(client, 'web', {
      timeoutMs: 3000,
      machinePollMs: 10,
      busPollMs: 5,
      onProgress: bootProgress('web', (e) => events.push(e)),
      probes: { procExists: () => true, foreignUserns: () => false, busReady: async () => ++probes > 2 },
    });
    expect(r).toBe('ready');
    expect(events).toEqual([
      { kind: 'phase', message: "waiting for 'web' to register" },
      { kind: 'phase', message: "machine 'web' registered" },
      { kind: 'phase', message: "waiting for systemd inside 'web'" },
    ]);
  });

  it('passes notes and progress events through unchanged', () => {
    const events: ProgressEvent[] = [];
    const f = bootProgress('db', (e) => events.push(e));
    f({ kind: 'note', message: 'n1' });
    f({ kind: 'phase', message: 'first' });
    f({ kind: 'progress', done: 1, total: 2 });
    f({ kind: 'phase', message: 'second' });
    f({ kind: 'phase', message: 'third' });
    expect(events.map((e) => (e.kind === 'progress' ? `p${e.done}` : e.message))).toEqual([
      'n1',
      'first',
      'p1',
      "machine 'db' registered",
      "waiting for systemd inside 'db'",
      'third',
    ]);
  });
});
