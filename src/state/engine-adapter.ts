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
import { createContainer as engineCreate, cleanupFailedCreate } from '../engine/containers/create.js';
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
import { createCommandLine } from './create-flags.js';
import { isolationSummary } from './isolation.js';

/** Wizard flags -> the CLI's raw create flag object (the engine validates it). */
export function toCliFlags(f: CreateFlags): Record<string, unknown> {
  return {
    name: f.name || undefined,
    fs: f.rootfs || undefined,
    memory: f.memory,
    cpus: f.cpus,
    cpuWeight: f.cpuWeight,
    pod: f.network === 'pod' ? f.pod : undefined,
    privateNetwork: f.network === 'private',
    networkVeth: f.network === 'veth',
    networkZone: f.network === 'zone' ? f.zone : undefined,
    ports: [],
    binds: f.binds,
    envs: f.envs,
    userns: !!f.userns,
    dropCaps: f.dropCaps,
    addCaps: f.addCaps,
    noNewPrivileges: !!f.noNewPrivileges,
    readOnly: !!f.readOnly,
    systemCallFilter: [],
    hardened: f.preset === 'hardened',
    strict: f.preset === 'strict',
    noOciPorts: false,
    noOciVolumes: false,
    ociEnv: [],
    enable: !!f.enable,
  };
}

/** Map an engine error message to the wizard field it is about (best effort). */
export function fieldOfError(msg: string): FieldError['field'] {
  const m = msg.toLowerCase();
  if (/\bname\b|already exists/.test(m)) return 'name';
  if (/rootfs|root filesystem|--fs/.test(m)) return 'rootfs';
  if (/memory/.test(m)) return 'memory';
  if (/cpu.?weight/.test(m)) return 'cpuWeight';
  if (/cpus/.test(m)) return 'cpus';
  if (/bind/.test(m)) return 'binds';
  if (/env/.test(m)) return 'envs';
  if (/zone/.test(m)) return 'zone';
  if (/pod/.test(m)) return 'pod';
  if (/capabilit/.test(m)) return 'dropCaps';
  return 'general';
}

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

type FlagsToState = (flags: unknown, config: unknown, opts: { layout: unknown }) => Promise<{ state: Record<string, unknown>; notes: string[] }>;

async function loadFlagsToState(): Promise<FlagsToState | null> {
  const mod = (await import('../engine/security/presets.js')) as Record<string, unknown>;
  return typeof mod.createFlagsToState === 'function' ? (mod.createFlagsToState as FlagsToState) : null;
}

export async function createEngineAdapter(opts: { configPath?: string } = {}): Promise<EnginePort> {
  const notes: string[] = [];
  const ctx = await makeCtx({ configPath: opts.configPath, note: (m) => notes.push(m) });
  return new EngineAdapter(ctx);
}

export class EngineAdapter implements EnginePort {
  private client: SystemdClient | null = null;
  private connecting: Promise<SystemdClient> | null = null;

  constructor(private ctx: Ctx) {}

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

  async start(name: string): Promise<void> {
    await startContainer(this.ctx, name, { client: await this.sd() });
  }

  async stop(name: string, mode: StopMode): Promise<void> {
    await stopContainer(this.ctx, name, mode, { client: await this.sd() });
  }

  async restart(name: string): Promise<void> {
    const client = await this.sd();
    await stopContainer(this.ctx, name, 'graceful', { client });
    await startContainer(this.ctx, name, { client });
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

  async validateCreateFlags(f: CreateFlags): Promise<ValidationResult> {
    const toState = await loadFlagsToState();
    if (!toState) return { errors: [{ field: 'general', message: 'engine validator (createFlagsToState) not available yet' }], isolation: null };
    try {
      const r = await toState(toCliFlags(f), this.ctx.config, { layout: this.ctx.layout });
      const s = r.state as { dropCaps?: string[]; addCaps?: string[]; userns?: boolean; noNewPrivs?: boolean; privateNetwork?: boolean; syscallFilter?: string[]; apparmorProfile?: string; readOnly?: boolean };
      const { NSPAWN_DEFAULT_CAPS } = await import('../engine/security/caps.js');
      const drops = new Set(s.dropCaps ?? []);
      let caps = NSPAWN_DEFAULT_CAPS.filter((c) => !drops.has(c));
      if (s.privateNetwork && f.network !== 'pod' && !drops.has('CAP_NET_ADMIN')) caps = [...caps, 'CAP_NET_ADMIN'];
      for (const c of s.addCaps ?? []) if (!caps.includes(c)) caps = [...caps, c];
      const iso = isolationSummary({
        caps,
        userns: !!s.userns,
        noNewPrivs: !!s.noNewPrivs,
        network: f.network === 'host' && s.privateNetwork ? 'private' : f.network,
        syscallFilter: s.syscallFilter ?? [],
        apparmor: s.apparmorProfile ?? null,
        readOnly: !!s.readOnly,
      });
      iso.notes = r.notes;
      const errors: FieldError[] = [];
      if (f.name && (await this.getContainer(f.name).catch(() => null))) errors.push({ field: 'name', message: `container '${f.name}' already exists` });
      return { errors, isolation: iso };
    } catch (e) {
      if (e instanceof SdmeError) return { errors: [{ field: fieldOfError(e.message), message: e.message }], isolation: null };
      throw e;
    }
  }

  createCommandLine(f: CreateFlags): string {
    return createCommandLine(f);
  }

  async suggestName(): Promise<string> {
    const names = new Set((await listContainers(this.ctx, { skipHealth: true }).catch(() => [])).map((c) => c.name));
    return generateName((n) => names.has(n));
  }

  async createContainer(f: CreateFlags, opts: { start: boolean; onProgress?: (ev: ProgressEvent) => void; signal?: AbortSignal }): Promise<string> {
    const toState = await loadFlagsToState();
    if (!toState) throw new SdmeError('engine validator (createFlagsToState) not available yet');
    opts.onProgress?.({ kind: 'phase', message: 'creating' });
    const r = await toState(toCliFlags(f), this.ctx.config, { layout: this.ctx.layout });
    const name = await engineCreate(this.ctx, r.state as never);
    if (opts.start) {
      opts.onProgress?.({ kind: 'phase', message: 'booting' });
      try {
        await startContainer(this.ctx, name, { client: await this.sd() });
      } catch (e) {
        // `create --started` semantics: remove the container if start fails
        await cleanupFailedCreate(this.ctx, name).catch(() => undefined);
        throw e;
      }
    }
    return name;
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
    if (!s) return null;
    return { cpuUsageUsec: s.cpuUsageUsec ?? 0, memoryCurrent: s.memoryCurrent ?? 0, memoryMax: s.memoryMax };
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
      if (m && !closed) onChange({ kind: 'container', name: unescapeUnit(m[1]!) });
    };
    void this.sd()
      .then((c) => c.onMachineEvent((ev) => !closed && onChange({ kind: 'container', name: ev.name })))
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
