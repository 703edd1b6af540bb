/**
 * Boot and shutdown waits (lifecycle.md §4 step 6, §5).
 *
 * Boot: machine phase (machined registration reaches 'running'), then D-Bus
 * phase (the container's own system bus answers Hello). Shutdown: the machine
 * is gone, then the unit is inactive/failed/unloaded (so ExecStopPost ran).
 * Listeners are registered before any state read so no event is missed.
 * AbortSignal -> InterruptedError, with listeners and timers cleaned up.
 */
import { existsSync, statSync } from 'node:fs';
import { run } from '../../native/run.js';
import { checkInterrupt } from '../errors.js';
import type { ProgressFn } from '../types.js';
import { probeBus, type MachineEvent, type UnitState } from './dbus.js';

/** The part of SystemdClient the waits use (a fake in unit tests). */
export interface WaitClient {
  onMachineEvent(cb: (ev: MachineEvent) => void): Promise<() => void>;
  machineState(name: string): Promise<string | undefined>;
  machineLeader(name: string): Promise<number | undefined>;
  unitStates(patterns: readonly string[]): Promise<Map<string, UnitState>>;
}

/** OS probes used by the D-Bus phase; overridable for tests. */
export interface BootProbes {
  procExists(pid: number): boolean;
  /** leader's user namespace differs from ours */
  foreignUserns(pid: number): boolean;
  /** the container's system bus is up */
  busReady(name: string, leader: number, foreignUserns: boolean, timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

export const realProbes: BootProbes = {
  procExists: (pid) => existsSync(`/proc/${pid}`),
  foreignUserns: (pid) => {
    try {
      return statSync(`/proc/${pid}/ns/user`).ino !== statSync('/proc/self/ns/user').ino;
    } catch {
      return false;
    }
  },
  busReady: async (name, leader, foreign, timeoutMs, signal) => {
    if (foreign) {
      // our uid 0 is not root on the container's bus: let machined's helper connect
      const r = await run('busctl', [`--machine=${name}`, 'list', '--no-pager'], { timeoutMs, signal });
      return r.exitCode === 0;
    }
    return probeBus(`unix:path=/proc/${leader}/root/run/dbus/system_bus_socket`, timeoutMs);
  },
};

export type BootResult = 'ready' | 'timeout' | 'exited';
export type ShutdownResult = 'stopped' | 'timeout';

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
  /** poll intervals (tests shorten them) */
  machinePollMs?: number;
  busPollMs?: number;
  unitPollMs?: number;
  probes?: BootProbes;
}

/** Resolves after ms, or earlier on wake() or abort. */
function waiter(signal?: AbortSignal) {
  let wakeFn: (() => void) | undefined;
  return {
    wake: () => wakeFn?.(),
    wait: (ms: number) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
          clearTimeout(t);
          signal?.removeEventListener('abort', done);
          wakeFn = undefined;
          resolve();
        };
        const t = setTimeout(done, ms);
        wakeFn = done;
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

export async function waitForBoot(client: WaitClient, name: string, opts: WaitOptions): Promise<BootResult> {
  const { signal } = opts;
  const probes = opts.probes ?? realProbes;
  const deadline = Date.now() + opts.timeoutMs;
  const w = waiter(signal);
  let removed = false;
  checkInterrupt(signal);
  const unsub = await client.onMachineEvent((ev) => {
    if (ev.name !== name) return;
    if (ev.type === 'removed') removed = true;
    w.wake();
  });
  try {
    opts.onProgress?.({ kind: 'phase', message: `waiting for '${name}' to register` });
    for (;;) {
      checkInterrupt(signal);
      if (removed) return 'exited';
      const st = await client.machineState(name);
      checkInterrupt(signal);
      if (removed) return 'exited';
      if (st === 'running') break;
      if (st === 'closing' || st === 'abandoned') return 'exited';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await w.wait(Math.min(opts.machinePollMs ?? 500, left));
    }

    opts.onProgress?.({ kind: 'phase', message: `waiting for '${name}' to boot` });
    const leader = await client.machineLeader(name);
    if (leader === undefined || !probes.procExists(leader)) return 'exited';
    const foreign = probes.foreignUserns(leader);
    for (;;) {
      checkInterrupt(signal);
      if (removed || !probes.procExists(leader)) return 'exited';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      if (await probes.busReady(name, leader, foreign, Math.min(left, 2000), signal)) return 'ready';
      checkInterrupt(signal);
      const left2 = deadline - Date.now();
      if (left2 <= 0) return removed || !probes.procExists(leader) ? 'exited' : 'timeout';
      await w.wait(Math.min(opts.busPollMs ?? 200, left2));
    }
  } finally {
    unsub();
  }
}

export async function waitForShutdown(client: WaitClient, name: string, unit: string, opts: WaitOptions): Promise<ShutdownResult> {
  const { signal } = opts;
  const deadline = Date.now() + opts.timeoutMs;
  const w = waiter(signal);
  let gone = false;
  checkInterrupt(signal);
  const unsub = await client.onMachineEvent((ev) => {
    if (ev.name === name && ev.type === 'removed') {
      gone = true;
      w.wake();
    }
  });
  try {
    // phase 1: machine unregistered
    while (!gone) {
      checkInterrupt(signal);
      if ((await client.machineState(name)) === undefined) break;
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await w.wait(Math.min(opts.machinePollMs ?? 500, left));
    }
    unsub();
    // phase 2: unit settled, so ExecStopPost (unmounts) has run
    opts.onProgress?.({ kind: 'phase', message: `waiting for ${unit} to stop` });
    for (;;) {
      checkInterrupt(signal);
      const s = (await client.unitStates([unit])).get(unit);
      if (!s || s.activeState === 'inactive' || s.activeState === 'failed' || s.loadState === 'not-found') return 'stopped';
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      await w.wait(Math.min(opts.unitPollMs ?? 200, left));
    }
  } finally {
    unsub();
  }
}
