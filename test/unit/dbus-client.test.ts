import { EventEmitter } from 'node:events';
import dbus from 'dbus-next';
import type { Message } from 'dbus-next';
import { describe, expect, it } from 'vitest';
import {
  SystemdClient,
  decodeMachineAddresses,
  deduceJobResult,
  isNotFoundError,
  mapDbusError,
  parseSystemdVersion,
  type BusTransport,
} from '../../src/engine/systemd/dbus.js';
import { InterruptedError, SdmeError } from '../../src/engine/errors.js';

const SD_PATH = '/org/freedesktop/systemd1';
const err = (type: string, text: string) => new dbus.DBusError(type, text);

type Mode = 'before-reply' | 'same-tick' | 'later' | 'lost' | 'stuck';

/** A fake system bus with a tiny fake systemd + machined behind it. */
class FakeBus extends EventEmitter implements BusTransport {
  calls: string[] = [];
  jobSeq = 100;
  jobs = new Set<string>();
  units = new Map<string, { active: string; result: string }>();
  machines = new Map<string, { state: string; leader: number }>();
  /** per-unit scenario; default 'later' */
  mode = new Map<string, Mode>();
  outcome = new Map<string, 'done' | 'failed'>();
  /** hold signals and release them in a custom order */
  held: (() => void)[] = [];
  hold = false;

  signal(path: string, iface: string, member: string, body: unknown[]): void {
    this.emit('message', { type: 4, path, interface: iface, member, body } as unknown as Message);
  }

  private jobRemoved(job: string, unit: string, result: string): void {
    const fire = () => {
      this.jobs.delete(job);
      const st = this.units.get(unit);
      if (st) st.active = result === 'done' ? 'active' : 'failed';
      this.signal(SD_PATH, 'org.freedesktop.systemd1.Manager', 'JobRemoved', [1, job, unit, result]);
    };
    if (this.hold) this.held.push(fire);
    else fire();
  }

  disconnect(): void {}

  call(msg: Message): Promise<Message | null> {
    this.calls.push(msg.member);
    const reply = (body: unknown[]) => ({ body }) as unknown as Message;
    const b = msg.body as unknown[];
    switch (msg.member) {
      case 'AddMatch':
      case 'Subscribe':
        return Promise.resolve(reply([]));
      case 'StartUnit': {
        const unit = b[0] as string;
        const job = `${SD_PATH}/job/${this.jobSeq++}`;
        this.jobs.add(job);
        if (!this.units.has(unit)) this.units.set(unit, { active: 'inactive', result: 'success' });
        const res = this.outcome.get(unit) ?? 'done';
        const mode = this.mode.get(unit) ?? 'later';
        if (mode === 'before-reply') {
          this.jobRemoved(job, unit, res);
          return Promise.resolve(reply([job]));
        }
        if (mode === 'same-tick') {
          return new Promise((resolve) => {
            resolve(reply([job]));
            this.jobRemoved(job, unit, res); // dispatched before the caller's continuation runs
          });
        }
        if (mode === 'later') setTimeout(() => this.jobRemoved(job, unit, res), 20);
        if (mode === 'lost')
          setTimeout(() => {
            this.jobs.delete(job); // finished during a reload: no signal
            const st = this.units.get(unit)!;
            st.active = res === 'done' ? 'active' : 'failed';
            st.result = res === 'done' ? 'success' : 'exit-code';
          }, 50);
        return Promise.resolve(reply([job]));
      }
      case 'GetUnit': {
        const unit = b[0] as string;
        if (!this.units.has(unit)) return Promise.reject(err('org.freedesktop.systemd1.NoSuchUnit', `Unit ${unit} not loaded.`));
        return Promise.resolve(reply([`${SD_PATH}/unit/${unit.replace(/[^A-Za-z0-9]/g, (ch) => '_' + ch.charCodeAt(0).toString(16))}`]));
      }
      case 'Get': {
        const [iface, prop] = b as [string, string];
        if (msg.path.startsWith(`${SD_PATH}/job/`)) {
          if (!this.jobs.has(msg.path)) return Promise.reject(err('org.freedesktop.DBus.Error.UnknownObject', `Unknown object '${msg.path}'.`));
          return Promise.resolve(reply([new dbus.Variant('s', 'running')]));
        }
        if (msg.path.startsWith(`${SD_PATH}/unit/`)) {
          const st = this.units.get(msg.path.slice(`${SD_PATH}/unit/`.length).replace(/_([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))))!;
          if (prop === 'ActiveState') return Promise.resolve(reply([new dbus.Variant('s', st.active)]));
          if (prop === 'Result' && iface === 'org.freedesktop.systemd1.Service')
            return Promise.resolve(reply([new dbus.Variant('s', st.result)]));
        }
        if (msg.path === SD_PATH && prop === 'Version') return Promise.resolve(reply([new dbus.Variant('s', '252.38-1~deb12u1')]));
        if (msg.path.startsWith('/org/freedesktop/machine1/machine/')) {
          const m = this.machines.get(msg.path.split('/').pop()!);
          if (!m) return Promise.reject(err('org.freedesktop.DBus.Error.UnknownObject', 'gone'));
          return Promise.resolve(reply([new dbus.Variant(prop === 'Leader' ? 'u' : 's', prop === 'Leader' ? m.leader : m.state)]));
        }
        return Promise.reject(err('org.freedesktop.DBus.Error.UnknownProperty', `no ${prop}`));
      }
      case 'GetMachine':
      case 'KillMachine':
      case 'GetMachineAddresses': {
        const name = b[0] as string;
        if (!this.machines.has(name)) return Promise.reject(err('org.freedesktop.machine1.NoSuchMachine', `No machine '${name}' known`));
        if (msg.member === 'GetMachineAddresses')
          return Promise.resolve(reply([[[2, Buffer.from([10, 0, 0, 2])], [10, Buffer.from('fe800000000000000000000000000001', 'hex')]]]));
        return Promise.resolve(reply([`/org/freedesktop/machine1/machine/${name}`]));
      }
      case 'ListUnitsByPatterns':
        return Promise.resolve(
          reply([
            [...this.units].map(([n, s]) => [n, 'desc', 'loaded', s.active, s.active === 'active' ? 'running' : 'dead', '', 'p', 0, '', '/']),
          ]),
        );
      case 'ListMachines':
        return Promise.resolve(reply([[...this.machines.keys()].map((n) => [n, 'container', 'sdme', `/m/${n}`])]));
      case 'Hang':
        return new Promise(() => {});
      default:
        return Promise.reject(err('org.freedesktop.DBus.Error.UnknownMethod', msg.member));
    }
  }
}

const mk = (bus = new FakeBus()) => ({ bus, c: new SystemdClient(bus, { jobPollMs: 25, callTimeoutMs: 2000 }) });

describe('pure helpers', () => {
  it.each([
    ['252.38-1~deb12u1', 252],
    ['256.5-2-arch', 256],
    ['v255-stable', 255],
    ['259', 259],
  ])('parseSystemdVersion(%s)', (v, n) => expect(parseSystemdVersion(v)).toBe(n));
  it('parseSystemdVersion rejects junk', () => expect(() => parseSystemdVersion('abc')).toThrow("cannot parse systemd version 'abc'"));

  it('decodeMachineAddresses', () => {
    const h = (s: string) => Buffer.from(s, 'hex');
    expect(
      decodeMachineAddresses([
        [2, [192, 168, 1, 5]],
        [10, h('fe800000000000000000000000000001')],
        [10, h('febf0000000000000000000000000001')],
        [10, h('fec00000000000000000000000000001')],
        [10, h('fd000000000000000000000000000042')],
        [10, h('20010db8000000010000000000000000')],
        [10, h('00000000000000000000000000000001')],
        [10, h('20010db8000100020003000400050006')],
        [2, [1, 2, 3]],
        [7, [1, 2, 3, 4]],
      ]),
    ).toEqual(['192.168.1.5', 'fec0::1', 'fd00::42', '2001:db8:0:1::', '::1', '2001:db8:1:2:3:4:5:6']);
  });

  it.each([
    [err('org.freedesktop.machine1.NoSuchMachine', "No machine 'web' known"), { machine: 'web' }, "container 'web' is not running"],
    [err('org.freedesktop.systemd1.NoSuchUnit', 'Unit x not loaded.'), { unit: 'x.service' }, 'unit x.service is not loaded'],
    [err('org.freedesktop.systemd1.UnitMasked', 'Unit x is masked.'), { unit: 'x.service' }, 'unit x.service is masked'],
    [err('org.freedesktop.DBus.Error.AccessDenied', 'nope'), {}, 'permission denied by systemd (are you root?)'],
    [
      err('org.freedesktop.DBus.Error.ServiceUnknown', 'The name org.freedesktop.machine1 was not provided'),
      {},
      'systemd-machined is not available: The name org.freedesktop.machine1 was not provided',
    ],
    [err('org.freedesktop.systemd1.Weird', 'line one\nline two'), { what: 'starting u' }, 'starting u failed: line one'],
  ])('mapDbusError %#', (e, ctx, msg) => {
    const m = mapDbusError(e, ctx);
    expect(m).toBeInstanceOf(SdmeError);
    expect(m.message).toBe(msg);
  });
  it('mapDbusError passes bugs through', () => {
    const bug = new TypeError('x is undefined');
    expect(mapDbusError(bug)).toBe(bug);
  });
  it.each([
    [err('org.freedesktop.machine1.NoSuchMachine', ''), true],
    [err('x.Y', "No machine 'a' known"), true],
    [err('org.freedesktop.DBus.Error.UnknownObject', ''), true],
    [new Error('no such object here'), true],
    [err('org.freedesktop.systemd1.NoSuchUnit', 'Unit a not loaded.'), false],
  ])('isNotFoundError %#', (e, want) => expect(isNotFoundError(e)).toBe(want));

  it.each([
    ['start', 'active', 'success', 'done'],
    ['start', 'inactive', 'success', 'done'],
    ['start', 'inactive', 'exit-code', 'failed'],
    ['start', 'failed', 'exit-code', 'failed'],
    ['start', 'activating', 'exit-code', 'failed'],
    ['start', '', undefined, 'done'],
    ['stop', 'inactive', 'success', 'done'],
    ['stop', 'failed', 'exit-code', 'done'],
    ['stop', '', undefined, 'done'],
    ['stop', 'active', 'success', 'failed'],
  ] as const)('deduceJobResult(%s, %s, %s) = %s', (k, a, r, want) => expect(deduceJobResult(k, a, r)).toBe(want));
});

describe('SystemdClient.startUnit over a fake bus', () => {
  it.each(['before-reply', 'same-tick', 'later'] as const)('JobRemoved %s is matched by job path', async (mode) => {
    const { bus, c } = mk();
    bus.mode.set('a.service', mode);
    bus.outcome.set('a.service', 'failed');
    const r = await c.startUnit('a.service', { timeoutMs: 2000 });
    expect(r).toMatchObject({ result: 'failed', activeState: 'failed', unit: 'a.service', via: 'signal' });
    expect(r.job).toMatch(/\/job\/100$/);
    expect(c.stats()).toMatchObject({ jobWaiters: 0, earlyJobs: 0, pendingCalls: 0 });
  });

  it('lost JobRemoved (daemon-reload): decided by polling job + unit state', async () => {
    const { bus, c } = mk();
    bus.mode.set('lost.service', 'lost');
    bus.outcome.set('lost.service', 'failed');
    const t0 = Date.now();
    const r = await c.startUnit('lost.service', { timeoutMs: 5000 });
    expect(r).toMatchObject({ result: 'failed', activeState: 'failed', unitResult: 'exit-code', via: 'poll' });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('stuck job: our timeout, ActiveState read', async () => {
    const { bus, c } = mk();
    bus.mode.set('stuck.service', 'stuck');
    const t0 = Date.now();
    const r = await c.startUnit('stuck.service', { timeoutMs: 300 });
    expect(r).toMatchObject({ result: 'timeout', activeState: 'inactive', via: 'timeout' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(c.stats().jobWaiters).toBe(0);
  });

  it("another unit's JobRemoved is never credited", async () => {
    const { bus, c } = mk();
    bus.mode.set('mine.service', 'stuck');
    const p = c.startUnit('mine.service', { timeoutMs: 400 });
    await new Promise((r) => setTimeout(r, 30));
    bus.signal(SD_PATH, 'org.freedesktop.systemd1.Manager', 'JobRemoved', [9, `${SD_PATH}/job/999`, 'mine.service', 'done']);
    expect((await p).result).toBe('timeout');
  });

  it('10 concurrent starts, signals released in reverse order: each credited to its own job', async () => {
    const { bus, c } = mk();
    bus.hold = true;
    const units = Array.from({ length: 10 }, (_, i) => `s${i}.service`);
    units.forEach((u, i) => bus.outcome.set(u, i % 2 ? 'failed' : 'done'));
    const ps = units.map((u) => c.startUnit(u, { timeoutMs: 3000 }));
    while (bus.held.length < 10) await new Promise((r) => setTimeout(r, 5));
    for (const f of bus.held.reverse()) f();
    const rs = await Promise.all(ps);
    expect(rs.map((r) => r.unit)).toEqual(units);
    expect(rs.map((r) => r.result)).toEqual(units.map((_, i) => (i % 2 ? 'failed' : 'done')));
    expect(new Set(rs.map((r) => r.job)).size).toBe(10);
    expect(rs.every((r) => r.via === 'signal')).toBe(true);
  });

  it('50 starts: one AddMatch, one Subscribe, one message listener, no leftover waiters', async () => {
    const { bus, c } = mk();
    const modes: Mode[] = ['before-reply', 'same-tick', 'later'];
    for (let i = 0; i < 50; i++) {
      bus.mode.set('f.service', modes[i % 3]!);
      bus.outcome.set('f.service', 'failed');
      const r = await c.startUnit('f.service', { timeoutMs: 2000 });
      expect(r.result).toBe('failed');
    }
    expect(bus.calls.filter((m) => m === 'AddMatch')).toHaveLength(1);
    expect(bus.calls.filter((m) => m === 'Subscribe')).toHaveLength(1);
    expect(c.stats()).toEqual({
      addMatchCalls: 1,
      matchRules: 1,
      subscribeCalls: 1,
      jobWaiters: 0,
      earlyJobs: 0,
      machineListeners: 0,
      pendingCalls: 0,
      messageListeners: 1,
    });
  });

  it('abort cancels the wait with InterruptedError and removes the waiter', async () => {
    const { bus, c } = mk();
    bus.mode.set('slow.service', 'stuck');
    const ac = new AbortController();
    const p = c.startUnit('slow.service', { timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
    expect(c.stats().jobWaiters).toBe(0);
  });

  it('close() rejects calls in flight', async () => {
    const { c } = mk();
    const p = (c as unknown as { call: (...a: unknown[]) => Promise<unknown> }).call('org.x', '/', 'org.x.I', 'Hang');
    c.close();
    await expect(p).rejects.toThrow('D-Bus connection is closed');
    await expect(c.version()).rejects.toThrow('D-Bus connection is closed');
  });
});

describe('SystemdClient manager/machined reads over a fake bus', () => {
  it('version, unitStates, unitProperty', async () => {
    const { bus, c } = mk();
    bus.units.set('sdme@a.service', { active: 'active', result: 'success' });
    bus.units.set('sdme@b.service', { active: 'failed', result: 'exit-code' });
    expect(await c.version()).toBe(252);
    const m = await c.unitStates(['sdme@*.service']);
    expect([...m]).toEqual([
      ['sdme@a.service', { loadState: 'loaded', activeState: 'active', subState: 'running' }],
      ['sdme@b.service', { loadState: 'loaded', activeState: 'failed', subState: 'dead' }],
    ]);
    expect(await c.unitProperty('sdme@b.service', 'ActiveState')).toBe('failed');
    expect(await c.unitProperty('nope.service', 'ActiveState')).toBeUndefined();
    const before = bus.calls.length;
    expect((await c.unitStates([])).size).toBe(0);
    expect(bus.calls.length).toBe(before);
  });

  it('machined: not running vs running', async () => {
    const { bus, c } = mk();
    bus.machines.set('web', { state: 'running', leader: 4242 });
    await expect(c.getMachine('db')).rejects.toThrow("container 'db' is not running");
    await expect(c.killMachine('db', 'leader', 37)).rejects.toThrow("container 'db' is not running");
    expect(await c.machineState('db')).toBeUndefined();
    expect(await c.machineLeader('db')).toBeUndefined();
    expect(await c.machineAddresses('db')).toEqual([]);
    expect(await c.machineState('web')).toBe('running');
    expect(await c.machineLeader('web')).toBe(4242);
    expect(await c.machineAddresses('web')).toEqual(['10.0.0.2']);
    expect(await c.listMachines()).toEqual([{ name: 'web', class: 'container', service: 'sdme', path: '/m/web' }]);
  });

  it('onMachineEvent: rules added once, events filtered, unsubscribe works', async () => {
    const { bus, c } = mk();
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const off = await c.onMachineEvent((ev) => seen.push(`${i}:${ev.type}:${ev.name}`));
      off();
    }
    const off = await c.onMachineEvent((ev) => seen.push(`${ev.type}:${ev.name}`));
    bus.signal('/org/freedesktop/machine1', 'org.freedesktop.machine1.Manager', 'MachineNew', ['web', '/m/web']);
    bus.signal('/org/freedesktop/machine1', 'org.freedesktop.machine1.Manager', 'MachineRemoved', ['web', '/m/web']);
    bus.signal('/other', 'org.freedesktop.machine1.Manager', 'MachineRemoved', ['x', '/m/x']);
    off();
    bus.signal('/org/freedesktop/machine1', 'org.freedesktop.machine1.Manager', 'MachineNew', ['late', '/m/late']);
    expect(seen).toEqual(['new:web', 'removed:web']);
    expect(c.stats()).toMatchObject({ addMatchCalls: 2, machineListeners: 0 });
  });
});

describe('SystemdClient.connect without a bus', () => {
  it('names PID 1 and suggests the sandbox', async () => {
    await expect(SystemdClient.connect({ address: 'unix:path=/nonexistent/sdme-test-bus' })).rejects.toThrow(
      /^cannot reach the system bus: is systemd running\? \(PID 1 here is .+; try `sdme sandbox`\)$/,
    );
  });
});
