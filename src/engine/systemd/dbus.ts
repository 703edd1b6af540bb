/**
 * systemd (PID 1) and systemd-machined over one system-bus connection.
 *
 * Low-level dbus-next API only (no proxy objects): no introspection round
 * trips, and match rules are added by us exactly once per connection (the
 * proxy layer of dbus-next 0.10.2 never sends RemoveMatch, so repeated
 * listeners would pile rules up on the bus). One 'message' handler routes
 * JobRemoved to per-job waiters and MachineNew/MachineRemoved to listeners.
 */
import dbus from 'dbus-next';
import type { Message, MessageBus } from 'dbus-next';
import { existsSync, readFileSync } from 'node:fs';
import { InterruptedError, SdmeError } from '../errors.js';
import { sleep } from '../../native/fsutil.js';

const SD = 'org.freedesktop.systemd1';
const SD_PATH = '/org/freedesktop/systemd1';
const SD_MGR = 'org.freedesktop.systemd1.Manager';
const SD_UNIT = 'org.freedesktop.systemd1.Unit';
const SD_JOB = 'org.freedesktop.systemd1.Job';
const MD = 'org.freedesktop.machine1';
const MD_PATH = '/org/freedesktop/machine1';
const MD_MGR = 'org.freedesktop.machine1.Manager';
const MD_MACHINE = 'org.freedesktop.machine1.Machine';
const PROPS = 'org.freedesktop.DBus.Properties';
const SIGNAL = 4; // dbus MessageType.SIGNAL

export const DEFAULT_SYSTEM_BUS = 'unix:path=/run/dbus/system_bus_socket';

/** What the client needs from a bus connection (dbus-next MessageBus, or a fake in unit tests). */
export interface BusTransport {
  call(msg: Message): Promise<Message | null>;
  // 'message' (Message) and 'error' (unknown) events
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'message' | 'error', fn: (...a: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener(event: 'message' | 'error', fn: (...a: any[]) => void): unknown;
  disconnect(): void;
}

export type JobResult = 'done' | 'canceled' | 'timeout' | 'failed' | 'dependency' | 'skipped' | 'invalid' | 'unknown';

export interface JobOutcome {
  /** JobRemoved result, or deduced from unit state when the signal was lost; 'timeout' when our wait ran out */
  result: JobResult;
  /** unit ActiveState after the job; '' = not loaded (systemd unloads inactive units soon after they stop) */
  activeState: string;
  /** unit Result property (service/mount/... interface), when readable */
  unitResult?: string;
  /** job object path StartUnit/StopUnit returned */
  job: string;
  /** unit named by JobRemoved (or the requested unit when decided by polling) */
  unit: string;
  /** how it was decided */
  via: 'signal' | 'poll' | 'timeout';
}

export interface JobOptions {
  /** how long to wait for the job to finish; default 90 s */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** job mode, default 'replace' */
  mode?: string;
}

export interface UnitState {
  loadState: string;
  activeState: string;
  subState: string;
}

export interface MachineInfo {
  name: string;
  class: string;
  service: string;
  path: string;
}

export interface MachineEvent {
  type: 'new' | 'removed';
  name: string;
  path: string;
}

export interface UnitFileChange {
  type: string;
  file: string;
  destination: string;
}

// ---------- pure helpers (unit-tested) ----------

/** Major version from Manager.Version ("252.38-1~deb12u1" -> 252, "v256.4" -> 256). */
export function parseSystemdVersion(v: string): number {
  const m = /^v?(\d+)/.exec(v.trim());
  if (!m) throw new SdmeError(`cannot parse systemd version '${v}'`);
  return Number(m[1]);
}

function ipv6ToString(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // longest run (>= 2) of zero words becomes "::" (RFC 5952)
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** machined GetAddresses a(iay) -> strings; link-local IPv6 (fe80::/10) dropped, malformed entries skipped. */
export function decodeMachineAddresses(raw: ReadonlyArray<readonly [number, ArrayLike<number>]>): string[] {
  const out: string[] = [];
  for (const [family, bytesLike] of raw) {
    const b = Uint8Array.from(bytesLike as ArrayLike<number>);
    if (family === 2 && b.length === 4) out.push(Array.from(b).join('.'));
    else if (family === 10 && b.length === 16) {
      if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) continue;
      out.push(ipv6ToString(b));
    }
  }
  return out;
}

interface DBusErrorLike {
  type?: string;
  text?: string;
  message?: string;
}

function errParts(e: unknown): { type: string; text: string } {
  const d = (e ?? {}) as DBusErrorLike;
  return { type: typeof d.type === 'string' ? d.type : '', text: String(d.text ?? d.message ?? e ?? '') };
}

/** Not-found by the substrings the original uses (NoSuchMachine, No machine, UnknownObject, no such object). */
export function isNotFoundError(e: unknown): boolean {
  const { type, text } = errParts(e);
  const s = `${type} ${text}`;
  return /NoSuchMachine|No machine|UnknownObject|no such object/i.test(s);
}

export function isNoSuchUnitError(e: unknown): boolean {
  const { type, text } = errParts(e);
  return type.endsWith('.NoSuchUnit') || /Unit \S+ not loaded/.test(text);
}

/** D-Bus error -> SdmeError with a short one-line message. Non-D-Bus errors pass through. */
export function mapDbusError(e: unknown, ctx: { machine?: string; unit?: string; what?: string } = {}): Error {
  if (e instanceof SdmeError) return e;
  const { type, text } = errParts(e);
  if (!type) return e instanceof Error ? e : new Error(String(e));
  const first = text.split('\n')[0]!.trim();
  let msg: string;
  if (ctx.machine !== undefined && (type.endsWith('.NoSuchMachine') || /No machine/i.test(text))) {
    msg = `container '${ctx.machine}' is not running`;
  } else if (type.endsWith('.NoSuchUnit')) {
    msg = `unit ${ctx.unit ?? ''} is not loaded`.replace('  ', ' ');
  } else if (type.endsWith('.UnitMasked')) {
    msg = `unit ${ctx.unit ?? ''} is masked`.replace('  ', ' ');
  } else if (type.endsWith('.AccessDenied') || type.endsWith('.InteractiveAuthorizationRequired')) {
    msg = `permission denied by ${type.includes('machine1') ? 'systemd-machined' : 'systemd'} (are you root?)`;
  } else if (type.endsWith('.ServiceUnknown') || type.endsWith('.NameHasNoOwner')) {
    msg = `${/machine1/.test(text) ? 'systemd-machined' : 'a required D-Bus service'} is not available: ${first}`;
  } else {
    msg = `${ctx.what ?? 'D-Bus call'} failed: ${first || type}`;
  }
  return new SdmeError(msg, { cause: e });
}

/** Decide a job's outcome from unit state when its JobRemoved signal never came. */
export function deduceJobResult(kind: 'start' | 'stop', activeState: string, unitResult: string | undefined): JobResult {
  if (kind === 'stop') return activeState === 'inactive' || activeState === 'failed' || activeState === '' ? 'done' : 'failed';
  // '' = not loaded: garbage-collected after going inactive; failed units stay loaded
  if (activeState === 'failed') return 'failed';
  if (unitResult !== undefined && unitResult !== 'success') return 'failed';
  return 'done';
}

const RESULT_IFACE: Record<string, string> = {
  service: 'Service',
  mount: 'Mount',
  socket: 'Socket',
  scope: 'Scope',
  swap: 'Swap',
  automount: 'Automount',
  timer: 'Timer',
  path: 'Path',
};

function pid1Name(): string {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

function noBusError(cause?: unknown): SdmeError {
  return new SdmeError(
    `cannot reach the system bus: is systemd running? (PID 1 here is ${pid1Name()}; try \`sdme sandbox\`)`,
    { cause },
  );
}

function socketPathOf(address: string): string | undefined {
  const m = /^unix:(?:.*,)?path=([^,;]+)/.exec(address);
  return m?.[1];
}

/** Close a dbus-next bus and its socket for good. */
export function destroyBus(bus: MessageBus): void {
  try {
    bus.disconnect();
  } catch {
    /* already closed */
  }
  const stream = (bus as unknown as { _connection?: { stream?: { destroy?: () => void } } })._connection?.stream;
  try {
    stream?.destroy?.();
  } catch {
    /* ignore */
  }
}

/**
 * Open a bus connection and wait for the Hello reply. Rejects on socket error
 * or timeout. The returned bus keeps a no-op 'error' listener (an unhandled
 * 'error' event would crash the process).
 */
export function openBus(address: string, timeoutMs: number): Promise<MessageBus> {
  return new Promise((resolve, reject) => {
    let bus: MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: address });
    } catch (e) {
      reject(e);
      return;
    }
    const keep = () => {};
    bus.on('error', keep);
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      destroyBus(bus);
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    const timer = setTimeout(() => fail(new Error(`bus ${address}: no Hello reply in ${timeoutMs} ms`)), timeoutMs);
    bus.on('error', fail);
    bus.once('connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      bus.removeListener('error', fail);
      resolve(bus);
    });
  });
}

/** True if a bus at `address` answers Hello within timeoutMs (boot wait D-Bus phase). */
export async function probeBus(address: string, timeoutMs: number): Promise<boolean> {
  try {
    const bus = await openBus(address, timeoutMs);
    destroyBus(bus);
    return true;
  } catch {
    return false;
  }
}


export interface ClientOptions {
  /** per-call reply timeout, default 30 s */
  callTimeoutMs?: number;
  /** job poll interval, default 250 ms */
  jobPollMs?: number;
  /** test hook: drop every JobRemoved, as if all were lost in a daemon-reload (forces the poll path) */
  ignoreJobSignals?: boolean;
}

export interface ClientStats {
  addMatchCalls: number;
  matchRules: number;
  subscribeCalls: number;
  jobWaiters: number;
  earlyJobs: number;
  machineListeners: number;
  pendingCalls: number;
  /** 'message' listeners on the bus connection (ours is one) */
  messageListeners: number;
}

type Raw = { result: string; unit: string };

export class SystemdClient {
  private readonly bus: BusTransport;
  private readonly callTimeoutMs: number;
  private readonly jobPollMs: number;
  private readonly ignoreJobSignals: boolean;
  private closed = false;
  private readonly pending = new Set<(e: Error) => void>();
  private readonly matches = new Set<string>();
  private addMatchCalls = 0;
  private subscribeCalls = 0;
  private jobSignals?: Promise<void>;
  private machineSignals?: Promise<void>;
  /** job path -> resolver of the one startUnit/stopUnit waiting for it */
  private readonly jobWaiters = new Map<string, (r: Raw) => void>();
  /** JobRemoved seen while a StartUnit/StopUnit reply was outstanding (the reply race) */
  private readonly earlyJobs = new Map<string, Raw>();
  private inflightJobCalls = 0;
  private readonly machineListeners = new Set<(ev: MachineEvent) => void>();

  constructor(bus: BusTransport, opts: ClientOptions = {}) {
    this.bus = bus;
    this.callTimeoutMs = opts.callTimeoutMs ?? 30_000;
    this.jobPollMs = opts.jobPollMs ?? 250;
    this.ignoreJobSignals = opts.ignoreJobSignals ?? false;
    bus.on('message', this.onMessage);
    bus.on('error', this.onError);
  }

  /** Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket). */
  static async connect(opts: ClientOptions & { address?: string; timeoutMs?: number } = {}): Promise<SystemdClient> {
    const address = opts.address ?? process.env.DBUS_SYSTEM_BUS_ADDRESS ?? DEFAULT_SYSTEM_BUS;
    const sock = socketPathOf(address);
    if (sock !== undefined && !existsSync(sock)) throw noBusError();
    let bus: MessageBus;
    try {
      bus = await openBus(address, opts.timeoutMs ?? 5000);
    } catch (e) {
      throw noBusError(e);
    }
    return new SystemdClient(bus as unknown as BusTransport, opts);
  }

  // ---------- plumbing ----------

  private readonly onError = (e: unknown): void => {
    const err = noBusError(e);
    for (const rej of [...this.pending]) rej(err);
  };

  private readonly onMessage = (m: Message): void => {
    if (m.type !== SIGNAL) return;
    if (m.path === SD_PATH && m.interface === SD_MGR && m.member === 'JobRemoved') {
      if (this.ignoreJobSignals) return;
      const [, job, unit, result] = m.body as [number, string, string, string];
      const w = this.jobWaiters.get(job);
      if (w) {
        this.jobWaiters.delete(job);
        w({ result, unit });
      } else if (this.inflightJobCalls > 0) {
        this.earlyJobs.set(job, { result, unit });
        if (this.earlyJobs.size > 4096) this.earlyJobs.delete(this.earlyJobs.keys().next().value as string);
      }
    } else if (m.path === MD_PATH && m.interface === MD_MGR && (m.member === 'MachineNew' || m.member === 'MachineRemoved')) {
      const [name, path] = m.body as [string, string];
      const ev: MachineEvent = { type: m.member === 'MachineNew' ? 'new' : 'removed', name, path };
      for (const cb of [...this.machineListeners]) {
        try {
          cb(ev);
        } catch {
          /* a listener's bug must not break dispatch */
        }
      }
    }
  };

  /** Raw method call; resolves to the reply body. Rejects with the raw DBusError. */
  private call(
    dest: string,
    path: string,
    iface: string,
    member: string,
    signature = '',
    body: unknown[] = [],
    timeoutMs = this.callTimeoutMs,
  ): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new SdmeError('D-Bus connection is closed'));
    let msg: Message;
    try {
      msg = new dbus.Message({ destination: dest, path, interface: iface, member, signature, body });
    } catch (e) {
      return Promise.reject(e); // invalid path/name: a bug, keep the stack
    }
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.pending.delete(rej);
        fn();
      };
      const rej = (e: Error) => finish(() => reject(e));
      const timer = setTimeout(() => rej(new SdmeError(`D-Bus call ${member} got no reply in ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.pending.add(rej);
      this.bus.call(msg).then(
        (reply) => finish(() => resolve(reply?.body ?? [])),
        (e: unknown) => finish(() => reject(e)),
      );
    });
  }

  private async getProp(dest: string, path: string, iface: string, prop: string): Promise<unknown> {
    const [v] = await this.call(dest, path, PROPS, 'Get', 'ss', [iface, prop]);
    return v instanceof dbus.Variant ? v.value : (v as { value?: unknown } | undefined)?.value ?? v;
  }

  private async addMatch(rule: string): Promise<void> {
    if (this.matches.has(rule)) return;
    this.matches.add(rule);
    this.addMatchCalls++;
    try {
      await this.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [rule]);
    } catch (e) {
      this.matches.delete(rule);
      throw mapDbusError(e, { what: 'AddMatch' });
    }
  }

  private ensureJobSignals(): Promise<void> {
    this.jobSignals ??= (async () => {
      await this.addMatch(`type='signal',sender='${SD}',path='${SD_PATH}',interface='${SD_MGR}',member='JobRemoved'`);
      this.subscribeCalls++;
      try {
        await this.call(SD, SD_PATH, SD_MGR, 'Subscribe');
      } catch (e) {
        if (!errParts(e).type.endsWith('.AlreadySubscribed')) throw mapDbusError(e, { what: 'Subscribe' });
      }
    })().catch((e: unknown) => {
      this.jobSignals = undefined;
      throw e;
    });
    return this.jobSignals;
  }

  private ensureMachineSignals(): Promise<void> {
    this.machineSignals ??= (async () => {
      for (const member of ['MachineNew', 'MachineRemoved']) {
        await this.addMatch(`type='signal',sender='${MD}',path='${MD_PATH}',interface='${MD_MGR}',member='${member}'`);
      }
    })().catch((e: unknown) => {
      this.machineSignals = undefined;
      throw e;
    });
    return this.machineSignals;
  }

  /** Our unique connection name on the bus (":1.N"), once connected. */
  get uniqueName(): string | undefined {
    return (this.bus as unknown as { name?: string | null }).name ?? undefined;
  }

  /** Counters for tests: match rules and listeners must not grow with use. */
  stats(): ClientStats {
    return {
      addMatchCalls: this.addMatchCalls,
      matchRules: this.matches.size,
      subscribeCalls: this.subscribeCalls,
      jobWaiters: this.jobWaiters.size,
      earlyJobs: this.earlyJobs.size,
      machineListeners: this.machineListeners.size,
      pendingCalls: this.pending.size,
      messageListeners: (this.bus as unknown as { listenerCount?: (e: string) => number }).listenerCount?.('message') ?? -1,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new SdmeError('D-Bus connection is closed');
    for (const rej of [...this.pending]) rej(err);
    this.machineListeners.clear();
    this.bus.removeListener('message', this.onMessage);
    this.bus.removeListener('error', this.onError);
    try {
      this.bus.disconnect();
    } catch {
      /* ignore */
    }
    const stream = (this.bus as unknown as { _connection?: { stream?: { destroy?: () => void } } })._connection?.stream;
    stream?.destroy?.();
  }

  // ---------- systemd manager ----------

  async version(): Promise<number> {
    try {
      return parseSystemdVersion(String(await this.getProp(SD, SD_PATH, SD_MGR, 'Version')));
    } catch (e) {
      throw mapDbusError(e, { what: 'reading the systemd version' });
    }
  }

  /** Unit object path, or undefined when the unit is not loaded. */
  async unitPath(unit: string): Promise<string | undefined> {
    try {
      const [p] = await this.call(SD, SD_PATH, SD_MGR, 'GetUnit', 's', [unit]);
      return p as string;
    } catch (e) {
      if (isNoSuchUnitError(e)) return undefined;
      throw mapDbusError(e, { unit, what: `GetUnit ${unit}` });
    }
  }

  /** A unit property (default interface Unit); undefined when the unit is not loaded. */
  async unitProperty(unit: string, prop: string, iface = SD_UNIT): Promise<unknown> {
    const path = await this.unitPath(unit);
    if (path === undefined) return undefined;
    try {
      return await this.getProp(SD, path, iface, prop);
    } catch (e) {
      if (isNotFoundError(e) || isNoSuchUnitError(e)) return undefined;
      throw mapDbusError(e, { unit, what: `reading ${prop} of ${unit}` });
    }
  }

  /** ActiveState and type-specific Result ('' / undefined when not loaded). */
  async unitActiveAndResult(unit: string): Promise<{ activeState: string; unitResult?: string }> {
    const path = await this.unitPath(unit);
    if (path === undefined) return { activeState: '' };
    let activeState = '';
    try {
      activeState = String(await this.getProp(SD, path, SD_UNIT, 'ActiveState'));
    } catch (e) {
      if (!isNotFoundError(e)) throw mapDbusError(e, { unit });
      return { activeState: '' };
    }
    const suffix = unit.slice(unit.lastIndexOf('.') + 1);
    const t = RESULT_IFACE[suffix];
    if (!t) return { activeState };
    try {
      return { activeState, unitResult: String(await this.getProp(SD, path, `${SD}.${t}`, 'Result')) };
    } catch {
      return { activeState };
    }
  }

  /** One ListUnitsByPatterns call: loaded units matching any pattern -> states. Absent = not loaded. */
  async unitStates(patterns: readonly string[]): Promise<Map<string, UnitState>> {
    const out = new Map<string, UnitState>();
    if (patterns.length === 0) return out; // [] would mean "all units"
    let rows: unknown[];
    try {
      [rows] = (await this.call(SD, SD_PATH, SD_MGR, 'ListUnitsByPatterns', 'asas', [[], [...patterns]])) as [unknown[]];
    } catch (e) {
      throw mapDbusError(e, { what: 'listing units' });
    }
    for (const r of rows as string[][]) {
      out.set(r[0]!, { loadState: r[2]!, activeState: r[3]!, subState: r[4]! });
    }
    return out;
  }

  /** Alias (docs/internals.md name): unit -> ActiveState. */
  async unitActiveStates(patterns: readonly string[]): Promise<Map<string, string>> {
    const m = await this.unitStates(patterns);
    return new Map([...m].map(([k, v]) => [k, v.activeState]));
  }

  private async jobExists(job: string): Promise<boolean> {
    try {
      await this.getProp(SD, job, SD_JOB, 'State');
      return true;
    } catch (e) {
      if (isNotFoundError(e)) return false;
      throw e;
    }
  }

  private async runJob(kind: 'start' | 'stop', unit: string, opts: JobOptions): Promise<JobOutcome> {
    const timeoutMs = opts.timeoutMs ?? 90_000;
    const signal = opts.signal;
    if (signal?.aborted) throw new InterruptedError();
    await this.ensureJobSignals();
    this.inflightJobCalls++;
    let job: string;
    let early: Raw | undefined;
    try {
      [job] = (await this.call(SD, SD_PATH, SD_MGR, kind === 'start' ? 'StartUnit' : 'StopUnit', 'ss', [
        unit,
        opts.mode ?? 'replace',
      ])) as [string];
      // JobRemoved may have been dispatched before this continuation ran
      early = this.earlyJobs.get(job);
      this.earlyJobs.delete(job);
    } finally {
      if (--this.inflightJobCalls === 0) this.earlyJobs.clear();
    }
    const raw = early ? { ...early, via: 'signal' as const } : await this.awaitJob(kind, job, unit, timeoutMs, signal);
    const st = await this.unitActiveAndResult(unit);
    const out: JobOutcome = {
      result: raw.result as JobResult,
      activeState: st.activeState,
      job,
      unit: raw.unit,
      via: raw.via,
    };
    if (st.unitResult !== undefined) out.unitResult = st.unitResult;
    return out;
  }

  private awaitJob(
    kind: 'start' | 'stop',
    job: string,
    unit: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Raw & { via: JobOutcome['via'] }> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        settled = true;
        clearTimeout(timer);
        if (this.jobWaiters.get(job) === waiter) this.jobWaiters.delete(job);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(onClose);
      };
      const waiter = (r: Raw) => {
        if (settled) return;
        cleanup();
        resolve({ ...r, via: 'signal' });
      };
      const onAbort = () => {
        if (settled) return;
        cleanup();
        reject(new InterruptedError());
      };
      const onClose = (e: Error) => {
        if (settled) return;
        cleanup();
        reject(e);
      };
      const tick = async () => {
        if (settled) return;
        try {
          // JobRemoved lost (e.g. during daemon-reload)? The job object is then gone.
          if (!(await this.jobExists(job))) {
            if (settled) return;
            const st = await this.unitActiveAndResult(unit);
            if (settled) return;
            cleanup();
            resolve({ result: deduceJobResult(kind, st.activeState, st.unitResult), unit, via: 'poll' });
            return;
          }
        } catch {
          // transient (e.g. manager busy reloading): keep waiting until the deadline
        }
        if (settled) return;
        const left = deadline - Date.now();
        if (left <= 0) {
          cleanup();
          resolve({ result: 'timeout', unit, via: 'timeout' });
          return;
        }
        timer = setTimeout(() => void tick(), Math.min(this.jobPollMs, left));
      };
      this.jobWaiters.set(job, waiter);
      this.pending.add(onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => void tick(), Math.min(this.jobPollMs, timeoutMs));
    });
  }

  /** StartUnit(unit, "replace") and wait for that job (matched by its path) to finish. */
  async startUnit(unit: string, opts: JobOptions = {}): Promise<JobOutcome> {
    try {
      return await this.runJob('start', unit, opts);
    } catch (e) {
      throw mapDbusError(e, { unit, what: `starting ${unit}` });
    }
  }

  /** StopUnit(unit, "replace") and wait. A unit that is not loaded counts as stopped. */
  async stopUnit(unit: string, opts: JobOptions = {}): Promise<JobOutcome> {
    try {
      return await this.runJob('stop', unit, opts);
    } catch (e) {
      if (isNoSuchUnitError(e)) return { result: 'done', activeState: '', job: '', unit, via: 'poll' };
      throw mapDbusError(e, { unit, what: `stopping ${unit}` });
    }
  }

  /** ResetFailedUnit; a unit that is not loaded has nothing to reset. */
  async resetFailedUnit(unit: string): Promise<void> {
    try {
      await this.call(SD, SD_PATH, SD_MGR, 'ResetFailedUnit', 's', [unit]);
    } catch (e) {
      if (isNoSuchUnitError(e)) return;
      throw mapDbusError(e, { unit, what: `reset-failed ${unit}` });
    }
  }

  /** Alias (docs/internals.md name). */
  resetFailed(unit: string): Promise<void> {
    return this.resetFailedUnit(unit);
  }

  /** Manager.Reload (daemon-reload); returns when the reload is done. */
  async reload(): Promise<void> {
    try {
      await this.call(SD, SD_PATH, SD_MGR, 'Reload', '', [], Math.max(this.callTimeoutMs, 120_000));
    } catch (e) {
      throw mapDbusError(e, { what: 'daemon-reload' });
    }
  }

  async enableUnitFiles(files: readonly string[], opts: { runtime?: boolean; force?: boolean } = {}): Promise<UnitFileChange[]> {
    try {
      const [, changes] = await this.call(SD, SD_PATH, SD_MGR, 'EnableUnitFiles', 'asbb', [
        [...files],
        opts.runtime ?? false,
        opts.force ?? false,
      ]);
      return toChanges(changes);
    } catch (e) {
      throw mapDbusError(e, { unit: files.join(' '), what: `enabling ${files.join(' ')}` });
    }
  }

  async disableUnitFiles(files: readonly string[], opts: { runtime?: boolean } = {}): Promise<UnitFileChange[]> {
    try {
      const [changes] = await this.call(SD, SD_PATH, SD_MGR, 'DisableUnitFiles', 'asb', [[...files], opts.runtime ?? false]);
      return toChanges(changes);
    } catch (e) {
      throw mapDbusError(e, { unit: files.join(' '), what: `disabling ${files.join(' ')}` });
    }
  }

  // ---------- machined ----------

  /** Machine object path; SdmeError "container 'N' is not running" when not registered. */
  async getMachine(name: string): Promise<string> {
    try {
      const [p] = await this.call(MD, MD_PATH, MD_MGR, 'GetMachine', 's', [name]);
      return p as string;
    } catch (e) {
      throw mapDbusError(e, { machine: name, what: `looking up machine ${name}` });
    }
  }

  async listMachines(): Promise<MachineInfo[]> {
    try {
      const [rows] = await this.call(MD, MD_PATH, MD_MGR, 'ListMachines');
      return (rows as string[][]).map((r) => ({ name: r[0]!, class: r[1]!, service: r[2]!, path: r[3]! }));
    } catch (e) {
      throw mapDbusError(e, { what: 'listing machines' });
    }
  }

  private async machineProp(name: string, prop: string): Promise<unknown> {
    let path: string;
    try {
      [path] = (await this.call(MD, MD_PATH, MD_MGR, 'GetMachine', 's', [name])) as [string];
      return await this.getProp(MD, path, MD_MACHINE, prop);
    } catch (e) {
      if (isNotFoundError(e)) return undefined;
      throw mapDbusError(e, { machine: name, what: `reading ${prop} of machine ${name}` });
    }
  }

  /** Machine.State ('opening' | 'running' | 'closing' | 'abandoned'), undefined when not registered. */
  async machineState(name: string): Promise<string | undefined> {
    const v = await this.machineProp(name, 'State');
    return v === undefined ? undefined : String(v);
  }

  /** Machine.Leader PID, undefined when not registered. */
  async machineLeader(name: string): Promise<number | undefined> {
    const v = await this.machineProp(name, 'Leader');
    return v === undefined ? undefined : Number(v);
  }

  /** Addresses (no link-local IPv6); [] when the machine is not registered. */
  async machineAddresses(name: string): Promise<string[]> {
    try {
      const [raw] = await this.call(MD, MD_PATH, MD_MGR, 'GetMachineAddresses', 's', [name]);
      return decodeMachineAddresses(raw as [number, Uint8Array][]);
    } catch (e) {
      if (isNotFoundError(e)) return [];
      throw mapDbusError(e, { machine: name, what: `reading addresses of ${name}` });
    }
  }

  async killMachine(name: string, who: 'leader' | 'all', signal: number): Promise<void> {
    try {
      await this.call(MD, MD_PATH, MD_MGR, 'KillMachine', 'ssi', [name, who, signal]);
    } catch (e) {
      throw mapDbusError(e, { machine: name, what: `signalling ${name}` });
    }
  }

  async terminateMachine(name: string): Promise<void> {
    try {
      await this.call(MD, MD_PATH, MD_MGR, 'TerminateMachine', 's', [name]);
    } catch (e) {
      throw mapDbusError(e, { machine: name, what: `terminating ${name}` });
    }
  }

  /**
   * Listen for MachineNew/MachineRemoved. Resolves once the match rules are
   * active, so a state read made afterwards cannot miss an event. Returns the unsubscribe function.
   */
  async onMachineEvent(cb: (ev: MachineEvent) => void): Promise<() => void> {
    await this.ensureMachineSignals();
    this.machineListeners.add(cb);
    return () => {
      this.machineListeners.delete(cb);
    };
  }
}

function toChanges(v: unknown): UnitFileChange[] {
  if (!Array.isArray(v)) return [];
  return (v as string[][]).map((r) => ({ type: r[0]!, file: r[1]!, destination: r[2]! }));
}
