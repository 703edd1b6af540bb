/**
 * The real EnginePort: wires the TUI to the engine modules. Change events
 * come from machined's MachineNew/MachineRemoved signals plus a cheap D-Bus
 * unit-state poll (ListUnitsByPatterns) and a state-dir listing, diffed so
 * only changed containers are re-read.
 */
import { readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { makeCtx, type Ctx } from '../engine/context.js';
import { SdmeError } from '../engine/errors.js';
import { listContainers } from '../engine/containers/list.js';
import { startContainer } from '../engine/containers/start.js';
import { stopContainer } from '../engine/containers/stop.js';
import { removeContainer } from '../engine/containers/rm.js';
import { enableContainer, disableContainer } from '../engine/containers/enable.js';
import { createContainer as engineCreate } from '../engine/containers/create.js';
import { exists } from '../engine/containers/common.js';
import { gatherCreateHostFacts } from '../engine/containers/host-facts.js';
import { isValidName } from '../engine/catalogue/names.js';
import type { CreateHostFacts } from '../engine/security/create-flags.js';
import type { ContainerState, ProgressFn } from '../engine/types.js';
import { inspectContainer, type IsolationReport } from '../engine/security/inspect.js';
import { readJournal } from '../engine/systemd/journal.js';
import { SystemdClient } from '../engine/systemd/dbus.js';
import { listRootfs as engineListRootfs } from '../engine/rootfs/list.js';
import { generateName } from '../engine/catalogue/names.js';
import { readCgroupStats as nativeCgroupStats } from '../native/cgroup.js';
import { run } from '../native/run.js';
import type {
  CgroupStats, CommandArgv, ContainerInfo, CreateFlags, EnginePort, FieldError, HostInfo, IsolationSummary,
  JournalEntry, JournalOptions, PodInfo, ProgressEvent, RootfsInfo, StopMode, Subscription, ValidationResult, WatchEvent,
} from './engine-port.js';
import { createCommandLine, validateWizardFlags } from './create-flags.js';

/** Engine isolation report -> the UI summary (rows already compared with Docker). */
export function summaryFromReport(r: IsolationReport): IsolationSummary {
  return {
    items: r.rows.map((row) => ({
      label: row.label,
      ours: row.value,
      docker: row.docker,
      verdict: row.verdict === 'n/a' ? 'same' : row.verdict,
    })),
    notes: [],
  };
}

export async function createEngineAdapter(opts: { configPath?: string } = {}): Promise<EnginePort> {
  const notes: string[] = [];
  const ctx = await makeCtx({ configPath: opts.configPath, note: (m) => notes.push(m) });
  return new EngineAdapter(ctx);
}

export class EngineAdapter implements EnginePort {
  private client: SystemdClient | null = null;
  private connecting: Promise<SystemdClient> | null = null;
  private systemdVersion: number | undefined;
  /** container -> unit ActiveEnterTimestamp (ms) */
  private startedAt = new Map<string, number>();

  private readJournal: typeof readJournal;
  private startContainer: typeof startContainer;

  /** deps: test fakes for the bus client, the journal reader and the engine's start */
  constructor(
    private ctx: Ctx,
    deps: { client?: SystemdClient; readJournal?: typeof readJournal; startContainer?: typeof startContainer } = {},
  ) {
    this.client = deps.client ?? null;
    this.readJournal = deps.readJournal ?? readJournal;
    this.startContainer = deps.startContainer ?? startContainer;
  }

  private async sd(): Promise<SystemdClient> {
    if (this.client) return this.client;
    this.connecting ??= SystemdClient.connect().then((c) => (this.client = c));
    return this.connecting;
  }

  async host(): Promise<HostInfo> {
    let systemdVersion: number | null = null;
    try {
      systemdVersion = await (await this.sd()).version();
    } catch {
      /* no systemd: shown as ? */
    }
    return {
      hostname: hostname(),
      systemdVersion,
      datadir: this.ctx.config.datadir,
      sandbox: !!process.env.SDME_SANDBOX,
      ...(process.env.SDME_SANDBOX ? { sandboxName: process.env.SDME_SANDBOX } : {}),
    };
  }

  async listContainers(): Promise<ContainerInfo[]> {
    return listContainers(this.ctx, { client: await this.sd().catch(() => undefined), skipHealth: false });
  }

  async getContainer(name: string): Promise<ContainerInfo | null> {
    // the engine lists all; cheap enough for one row after an event
    const all = await listContainers(this.ctx, { client: await this.sd().catch(() => undefined) });
    return all.find((c) => c.name === name) ?? null;
  }

  async listPods(): Promise<PodInfo[]> {
    try {
      const mod = (await import('../engine/network/' + 'pods.js')) as { listPods?: (ctx: Ctx) => Promise<PodInfo[]> };
      if (mod.listPods) return await mod.listPods(this.ctx);
    } catch {
      /* pods module not there yet: derive from containers */
    }
    const cts = await listContainers(this.ctx, { skipHealth: true, client: await this.sd().catch(() => undefined) });
    const pods = new Map<string, PodInfo>();
    let dirs: string[] = [];
    try {
      dirs = await readdir(this.ctx.layout.podsDir);
    } catch {
      /* none */
    }
    for (const d of dirs) pods.set(d, { name: d, active: false, netMode: null, netZone: null, addresses: [], members: [], created: 0 });
    for (const c of cts) {
      for (const [p, mode] of [[c.network.pod, 'pod'], [c.network.oci_pod, 'oci-pod']] as const) {
        if (!p) continue;
        const e = pods.get(p) ?? { name: p, active: false, netMode: null, netZone: null, addresses: [], members: [], created: 0 };
        e.members.push({ name: c.name, podMode: mode });
        if (c.status === 'running') e.active = true;
        pods.set(p, e);
      }
    }
    return [...pods.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async listRootfs(): Promise<RootfsInfo[]> {
    return (await engineListRootfs(this.ctx)).map((r) => ({ name: r.name, os: r.os, containers: r.containers }));
  }

  async start(name: string, opts: { onProgress?: ProgressFn } = {}): Promise<void> {
    await this.startWithProgress(name, opts.onProgress);
  }

  async stop(name: string, mode: StopMode): Promise<void> {
    await stopContainer(this.ctx, name, mode, { client: await this.sd() });
  }

  async restart(name: string): Promise<void> {
    const client = await this.sd();
    await stopContainer(this.ctx, name, 'graceful', { client });
    await this.startContainer(this.ctx, name, { client });
  }

  async remove(name: string): Promise<void> {
    await removeContainer(this.ctx, name, { client: await this.sd() });
  }

  async enable(name: string): Promise<void> {
    await enableContainer(this.ctx, name, { client: await this.sd() });
  }

  async disable(name: string): Promise<void> {
    await disableContainer(this.ctx, name, { client: await this.sd() });
  }

  /** Host facts createFlagsToState needs (the engine's gathering, shared with the CLI). */
  async hostFacts(f: CreateFlags): Promise<CreateHostFacts> {
    const version = async () => (this.systemdVersion ??= await (await this.sd()).version());
    return gatherCreateHostFacts(this.ctx, { version }, { fs: f.rootfs || undefined, binds: f.binds });
  }

  /** Facts the engine checks only when it writes (name taken, rootfs and bind sources present). */
  private async diskProblems(f: CreateFlags): Promise<FieldError[]> {
    const L = this.ctx.layout;
    const out: FieldError[] = [];
    if (f.name && isValidName(f.name) && (await exists(L.stateFile(f.name)))) out.push({ field: 'name', message: `container '${f.name}' already exists` });
    if (f.rootfs && isValidName(f.rootfs) && !(await exists(L.fsPath(f.rootfs)))) out.push({ field: 'rootfs', message: `rootfs '${f.rootfs}' not found` });
    for (const b of f.binds) {
      const host = b.split(':')[0] ?? '';
      if (host.startsWith('/') && !(await exists(host))) out.push({ field: 'binds', message: `bind source '${host}' does not exist` });
    }
    return out;
  }

  async validateCreateFlags(f: CreateFlags): Promise<ValidationResult> {
    const [facts, extra] = await Promise.all([this.hostFacts(f), this.diskProblems(f)]);
    const { errors, isolation } = validateWizardFlags(f, this.ctx.config, facts, extra);
    return { errors, isolation };
  }

  createCommandLine(f: CreateFlags): string {
    return createCommandLine(f);
  }

  async suggestName(): Promise<string> {
    const names = new Set((await listContainers(this.ctx, { skipHealth: true }).catch(() => [])).map((c) => c.name));
    return generateName((n) => names.has(n));
  }

  async createContainer(f: CreateFlags, opts: { start: boolean; onProgress?: (ev: ProgressEvent) => void; signal?: AbortSignal }): Promise<string> {
    const facts = await this.hostFacts(f);
    const v = validateWizardFlags(f, this.ctx.config, facts, await this.diskProblems(f));
    if (v.errors.length || !v.resolution) throw new SdmeError(v.errors[0]?.message ?? 'invalid flags');
    const state: ContainerState = v.resolution.state;
    const client = await this.sd();
    opts.onProgress?.({ kind: 'phase', message: 'creating' });
    for (const n of v.resolution.notes) opts.onProgress?.({ kind: 'note', message: n });
    const name = await engineCreate(this.ctx, state, { listMachines: async () => (await client.listMachines()).map((m) => m.name) });
    if (f.enable) await enableContainer(this.ctx, name, { client });
    if (opts.start) {
      try {
        await this.startWithProgress(name, opts.onProgress);
      } catch (e) {
        // `create --started` semantics: remove the container if start fails
        opts.onProgress?.({ kind: 'phase', message: 'start failed, removing' });
        await removeContainer(this.ctx, name, { client }).catch(() => undefined);
        throw e;
      }
    }
    return name;
  }

  /**
   * Start with progress: the phases are the engine's own (start.ts: unit
   * files, sdme@N.service, machine registered, systemd inside); the adapter
   * adds the unit's newest journal line as notes (throttled).
   */
  async startWithProgress(name: string, onProgress?: ProgressFn): Promise<void> {
    const client = await this.sd();
    if (!onProgress) return this.startContainer(this.ctx, name, { client });
    const abort = new AbortController();
    let lastNote = 0;
    void (async () => {
      try {
        for await (const e of this.readJournal({ unit: `sdme@${name}.service`, lines: 0, follow: true, signal: abort.signal })) {
          const now = Date.now();
          if (now - lastNote < 150) continue;
          lastNote = now;
          onProgress({ kind: 'note', message: e.message.split('\n')[0]!.slice(0, 200) });
        }
      } catch {
        /* journal unavailable: phases only */
      }
    })();
    try {
      await this.startContainer(this.ctx, name, { client, onProgress });
    } finally {
      abort.abort();
    }
  }

  async inspect(name: string): Promise<IsolationSummary> {
    return summaryFromReport(await inspectContainer(this.ctx, name));
  }

  async *journal(names: string | string[], opts: JournalOptions): AsyncIterable<JournalEntry> {
    const list = Array.isArray(names) ? names : [names];
    const tagged = list.length > 1;
    const iters = list.map((n) =>
      readJournal({ unit: `sdme@${n}.service`, lines: opts.lines, follow: opts.follow, signal: opts.signal })[Symbol.asyncIterator](),
    );
    const conv = (n: string, e: { ts: number; message: string; unit?: string }): JournalEntry => ({
      ts: Math.floor(e.ts / 1000),
      message: e.message,
      unit: e.unit ?? `sdme@${n}.service`,
      tag: tagged ? n : '',
    });
    // interleave: whichever source yields first (the feed orders by time)
    const pending = new Map<number, Promise<{ i: number; r: IteratorResult<{ ts: number; message: string; unit?: string }> }>>();
    const pull = (i: number) => pending.set(i, iters[i]!.next().then((r) => ({ i, r })));
    iters.forEach((_, i) => pull(i));
    try {
      while (pending.size) {
        const { i, r } = await Promise.race(pending.values());
        if (r.done) {
          pending.delete(i);
          continue;
        }
        pull(i);
        yield conv(list[i]!, r.value);
      }
    } finally {
      await Promise.all(iters.map((it) => it.return?.(undefined).catch(() => undefined)));
    }
  }

  async readCgroupStats(name: string): Promise<CgroupStats | null> {
    const s = nativeCgroupStats(`sdme@${name}.service`);
    if (!s) {
      this.startedAt.delete(name);
      return null;
    }
    return { cpuUsageUsec: s.cpuUsageUsec, memoryCurrent: s.memoryCurrent, memoryMax: s.memoryMax, startedAt: await this.startTime(name) };
  }

  /**
   * When the unit became active (ActiveEnterTimestamp, one D-Bus property
   * read), cached per container until a watch event for it.
   */
  async startTime(name: string): Promise<number | null> {
    const hit = this.startedAt.get(name);
    if (hit !== undefined) return hit;
    let v: number | null = null;
    try {
      v = usecToMs(await (await this.sd()).unitProperty(`sdme@${name}.service`, 'ActiveEnterTimestamp'));
    } catch {
      /* unknown */
    }
    // 0 = still activating: ask again next sample
    if (v !== null) this.startedAt.set(name, v);
    return v;
  }

  watch(onChange: (ev: WatchEvent) => void): Subscription {
    let closed = false;
    let unsub: (() => void) | null = null;
    let states = new Map<string, string>();
    let names = new Set<string>();
    const poll = async () => {
      try {
        const client = await this.sd();
        const now = await client.unitActiveStates(['sdme@*.service']);
        for (const [unit, st] of now) if (states.get(unit) !== st) emitUnit(unit);
        for (const unit of states.keys()) if (!now.has(unit)) emitUnit(unit);
        states = now;
      } catch {
        /* bus gone: keep polling the state dir */
      }
      try {
        const cur = new Set((await readdir(this.ctx.layout.stateDir)).filter((n) => !n.startsWith('.')));
        let changed = cur.size !== names.size;
        for (const n of cur) if (!names.has(n)) changed = true;
        if (changed && names.size) onChange({ kind: 'resync' });
        names = cur;
      } catch {
        /* no datadir yet */
      }
    };
    const emitUnit = (unit: string) => {
      const m = /^sdme@(.+)\.service$/.exec(unit);
      if (!m || closed) return;
      const name = unescapeUnit(m[1]!);
      this.startedAt.delete(name);
      onChange({ kind: 'container', name });
    };
    void this.sd()
      .then((c) => c.onMachineEvent((ev) => {
        this.startedAt.delete(ev.name);
        if (!closed) onChange({ kind: 'container', name: ev.name });
      }))
      .then((u) => {
        if (closed) u();
        else unsub = u;
      })
      .catch(() => undefined);
    void poll();
    const timer = setInterval(() => void poll(), 3000);
    return {
      close: () => {
        closed = true;
        clearInterval(timer);
        unsub?.();
      },
    };
  }

  shellCommand(name: string): CommandArgv {
    return { cmd: 'machinectl', args: ['shell', name] };
  }

  async runInteractive(argv: CommandArgv): Promise<number> {
    const r = await run(argv.cmd, argv.args, { inherit: true, timeoutMs: 0 });
    return r.exitCode;
  }
}

/** systemd unit-name unescape (\xNN) */
function unescapeUnit(s: string): string {
  return s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** systemd usec timestamp (bigint or number) -> ms; null for 0/unset. */
export function usecToMs(v: unknown): number | null {
  const n = typeof v === 'bigint' ? Number(v / 1000n) : typeof v === 'number' ? Math.floor(v / 1000) : 0;
  return n > 0 ? n : null;
}
