/**
 * DemoPort: an in-memory engine for `sdme-tui --demo`, benchmarks and tests
 * (a fake: nothing touches the system). Containers start and stop after a
 * delay, journals stream synthetic lines (including odd and escape-laden
 * ones), cgroup counters grow, watch() reports every change.
 */
import type {
  CgroupStats, CommandArgv, ContainerInfo, CreateFlags, EnginePort, FieldError, HostInfo, IsolationSummary,
  JournalEntry, JournalOptions, PodInfo, ProgressEvent, RootfsInfo, StopMode, Subscription, ValidationResult, WatchEvent,
} from './engine-port.js';
import { defaultConfig } from '../engine/catalogue/config.js';
import type { ContainerState } from '../engine/types.js';
import { createCommandLine, defaultFlags, validateWizardFlags } from './create-flags.js';
import { isolationFromState, isolationSummary } from './isolation.js';

export interface DemoOptions {
  /** delay of start/stop/create, ms */
  actionMs?: number;
  /** interval between journal lines per running container, ms (0 = no live lines) */
  journalMs?: number;
  /** containers to generate beyond the fixed set */
  extra?: number;
  /** history lines per container */
  history?: number;
  /** containers idle like real ones: cpu and memory counters stand still */
  quiet?: boolean;
  now?: () => number;
}

interface DemoCt {
  info: ContainerInfo;
  startedAt: number | null;
  cpuUsec: number;
  mem: number;
  flags: CreateFlags;
  /** the newest lines (at most LOG_KEEP) */
  log: JournalEntry[];
  /** lines ever pushed (absolute position of the end of `log`) */
  pushed: number;
}

const LOG_KEEP = 2000;

/** The engine config the demo validates against (defaults, like a fresh install). */
const DEMO_CONFIG = defaultConfig();

export const DEMO_ODD_MESSAGES = [
  'plain',
  'cr-at-end\r',
  '\x1b[32mgreen \x1b[0m',
  '\uFFFD\uFFFD bad',
  'line one\nline two',
  '',
  'progress 10%\rprogress 50%\rprogress 100%',
  '\x1b[2K\x1b[1Gerased and home',
  '\x1b[?1049hscreen switch',
  '\x1b]0;title\x07after title',
  '\x1b[6nquery cursor',
  'bell\x07 nul\x00 back\bspace',
];

/** bridges the demo host has (--network-bridge) */
const DEMO_BRIDGES = ['br0'];

function info(name: string, over: Partial<ContainerInfo> & { net?: Partial<ContainerInfo['network']> } = {}): ContainerInfo {
  const { net, ...rest } = over;
  return {
    name,
    status: 'stopped',
    health: '-',
    os: 'Debian GNU/Linux 12 (bookworm)',
    rootfs: '',
    userns: false,
    enabled: false,
    binds: [],
    oci_apps: [],
    submounts: [],
    network: {
      private_network: false,
      network_veth: false,
      network_bridge: null,
      network_zone: null,
      ports: [],
      pod: null,
      oci_pod: null,
      ...net,
    },
    limits: { memory: null, cpus: null, cpu_weight: null, disk: null },
    disk_used: null,
    kube: null,
    addresses: [],
    ...rest,
  };
}

export class DemoPort implements EnginePort {
  readonly calls: string[] = [];
  private cts = new Map<string, DemoCt>();
  private pods: PodInfo[] = [];
  private rootfs: RootfsInfo[];
  private watchers = new Set<(ev: WatchEvent) => void>();
  private logWaiters = new Set<() => void>();
  private opts: Required<Omit<DemoOptions, 'now'>> & { now: () => number };
  private seq = 0;

  constructor(opts: DemoOptions = {}) {
    this.opts = {
      actionMs: opts.actionMs ?? 800,
      journalMs: opts.journalMs ?? 700,
      extra: opts.extra ?? 0,
      history: opts.history ?? 30,
      quiet: opts.quiet ?? false,
      now: opts.now ?? Date.now,
    };
    const t0 = this.opts.now();
    this.rootfs = [
      { name: 'debian', os: 'Debian GNU/Linux 12 (bookworm)', containers: [] },
      { name: 'ubuntu', os: 'Ubuntu 24.04 LTS', containers: [] },
      { name: 'nginx', os: 'OCI app (nginx:1.27)', containers: [] },
    ];
    const add = (i: ContainerInfo, running: boolean) => {
      const ct: DemoCt = {
        info: { ...i, status: running ? 'running' : 'stopped', health: running ? 'running' : '-' },
        startedAt: running ? t0 - 3600_000 * (1 + this.cts.size) : null,
        cpuUsec: 0,
        mem: 50_000_000 + this.cts.size * 13_000_000,
        flags: defaultFlags(i.name),
        log: [],
        pushed: 0,
      };
      this.cts.set(i.name, ct);
    };
    add(info('web', { rootfs: 'nginx', os: 'OCI app (nginx:1.27)', enabled: true, net: { private_network: true, network_veth: true, pod: 'shop' } }), true);
    add(info('db', { rootfs: 'debian', userns: true, limits: { memory: '2G', cpus: '2', cpu_weight: null, disk: null }, net: { private_network: true, pod: 'shop' } }), true);
    add(info('build-box', { rootfs: '' }), false);
    add(info('ubu', { rootfs: 'ubuntu', os: 'Ubuntu 24.04 LTS', net: { private_network: true, network_zone: 'lab' } }), true);
    add(info('scratch', { rootfs: 'debian' }), false);
    for (let k = 0; k < this.opts.extra; k++) add(info(`ct-${String(k).padStart(4, '0')}`, { rootfs: 'debian' }), k % 3 === 0);
    this.pods = [
      {
        name: 'shop', active: true, netMode: 'veth', netZone: null, addresses: ['10.0.0.5'], created: Math.floor(t0 / 1000) - 86400,
        members: [{ name: 'web', podMode: 'pod' }, { name: 'db', podMode: 'pod' }],
      },
    ];
    this.syncRootfs();
    // history: a few normal lines plus the odd ones for the first container
    for (const ct of this.cts.values()) {
      const n = this.opts.history;
      for (let k = 0; k < n; k++) {
        ct.log.push({ ts: t0 - (n - k) * 1000 - this.seq++, message: `${ct.info.name}: history line ${k + 1}`, unit: `sdme@${ct.info.name}.service`, tag: ct.info.name });
      }
    }
    const web = this.cts.get('web')!;
    DEMO_ODD_MESSAGES.forEach((m, k) => web.log.push({ ts: t0 - 500 + k, message: m, unit: 'sdme@web.service', tag: 'web' }));
  }

  private syncRootfs(): void {
    for (const r of this.rootfs) r.containers = [...this.cts.values()].filter((c) => c.info.rootfs === r.name).map((c) => c.info.name);
  }

  private emit(ev: WatchEvent): void {
    for (const w of this.watchers) w(ev);
  }

  private ct(name: string): DemoCt {
    const c = this.cts.get(name);
    if (!c) throw new Error(`container '${name}' does not exist`);
    return c;
  }

  private delay(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.opts.actionMs));
  }

  private setStatus(name: string, status: ContainerInfo['status']): void {
    const c = this.ct(name);
    c.info = { ...c.info, status, health: status === 'running' ? 'running' : status === 'stopped' ? '-' : status };
    if (status === 'running') c.startedAt = this.opts.now();
    if (status === 'stopped') c.startedAt = null;
    this.emit({ kind: 'container', name });
  }

  /** append a journal line (tests and the demo ticker) */
  pushLog(name: string, message: string, ts = this.opts.now()): void {
    const c = this.ct(name);
    c.log.push({ ts, message, unit: `sdme@${name}.service`, tag: name });
    c.pushed++;
    if (c.log.length > LOG_KEEP * 2) c.log.splice(0, c.log.length - LOG_KEEP);
    for (const w of this.logWaiters) w();
  }

  async host(): Promise<HostInfo> {
    return { hostname: 'demo-host', systemdVersion: 252, datadir: '/var/lib/sdme', sandbox: false };
  }

  async listContainers(): Promise<ContainerInfo[]> {
    return [...this.cts.values()].map((c) => c.info);
  }

  async getContainer(name: string): Promise<ContainerInfo | null> {
    return this.cts.get(name)?.info ?? null;
  }

  async listPods(): Promise<PodInfo[]> {
    return this.pods;
  }

  async listRootfs(): Promise<RootfsInfo[]> {
    return this.rootfs;
  }

  async start(name: string, opts: { onProgress?: (ev: ProgressEvent) => void } = {}): Promise<void> {
    this.calls.push(`start ${name}`);
    const c = this.ct(name);
    if (c.info.status !== 'stopped') throw new Error(`container '${name}' is already running`);
    this.setStatus(name, 'starting');
    opts.onProgress?.({ kind: 'phase', message: 'waiting for boot' });
    await this.delay();
    this.setStatus(name, 'running');
    this.pushLog(name, 'Reached target multi-user.target - Multi-User System.');
  }

  async stop(name: string, mode: StopMode): Promise<void> {
    this.calls.push(`stop ${name} ${mode}`);
    const c = this.ct(name);
    if (c.info.status === 'stopped') throw new Error(`container '${name}' is not running`);
    this.setStatus(name, 'stopping');
    if (mode === 'graceful') await this.delay();
    else if (mode === 'term') await new Promise((r) => setTimeout(r, this.opts.actionMs / 3));
    if ((c.info.status as string) !== 'stopped') this.setStatus(name, 'stopped');
  }

  async restart(name: string): Promise<void> {
    this.calls.push(`restart ${name}`);
    await this.stop(name, 'graceful');
    await this.start(name);
  }

  async remove(name: string): Promise<void> {
    this.calls.push(`remove ${name}`);
    const c = this.ct(name);
    if (c.info.status !== 'stopped') await this.stop(name, 'graceful');
    this.cts.delete(name);
    for (const p of this.pods) p.members = p.members.filter((m) => m.name !== name);
    this.syncRootfs();
    this.emit({ kind: 'container', name });
    this.emit({ kind: 'rootfs' });
  }

  async enable(name: string): Promise<void> {
    this.calls.push(`enable ${name}`);
    const c = this.ct(name);
    c.info = { ...c.info, enabled: true };
    this.emit({ kind: 'container', name });
  }

  async disable(name: string): Promise<void> {
    this.calls.push(`disable ${name}`);
    const c = this.ct(name);
    c.info = { ...c.info, enabled: false };
    this.emit({ kind: 'container', name });
  }

  /** Same pipeline as the real adapter (CLI parser + createFlagsToState), with demo host facts. */
  private resolve(f: CreateFlags): ValidationResult & { state: ContainerState | null } {
    const extra: FieldError[] = [];
    if (f.name && this.cts.has(f.name)) extra.push({ field: 'name', message: `container '${f.name}' already exists` });
    if (f.rootfs && !this.rootfs.some((r) => r.name === f.rootfs)) extra.push({ field: 'rootfs', message: `rootfs '${f.rootfs}' not found` });
    const v = validateWizardFlags(f, DEMO_CONFIG, { systemdVersion: 252, pods: this.pods.map((p) => p.name), bridgeExists: (b) => DEMO_BRIDGES.includes(b) }, extra);
    return { errors: v.errors, isolation: v.isolation, state: v.resolution?.state ?? null };
  }

  async validateCreateFlags(f: CreateFlags): Promise<ValidationResult> {
    const { errors, isolation } = this.resolve(f);
    return { errors, isolation };
  }

  createCommandLine(f: CreateFlags): string {
    return createCommandLine(f);
  }

  async suggestName(): Promise<string> {
    const words = ['brisk-otter', 'calm-heron', 'quiet-lynx', 'amber-finch', 'steady-wren'];
    return words.find((w) => !this.cts.has(w)) ?? `ct-${this.cts.size}`;
  }

  async createContainer(f: CreateFlags, opts: { start: boolean; onProgress?: (ev: ProgressEvent) => void }): Promise<string> {
    const v = this.resolve(f);
    if (v.errors.length || !v.state) throw new Error(v.errors[0]?.message ?? 'invalid flags');
    const st = v.state;
    const name = f.name || (await this.suggestName());
    this.calls.push(`create ${name}${opts.start ? ' started' : ''}`);
    opts.onProgress?.({ kind: 'phase', message: 'creating' });
    await this.delay();
    const i = info(name, {
      rootfs: f.rootfs,
      userns: st.userns,
      enabled: !!f.enable,
      net: {
        private_network: st.privateNetwork,
        network_veth: st.networkVeth,
        network_bridge: st.networkBridge ?? null,
        network_zone: st.networkZone ?? null,
        pod: st.pod ?? null,
      },
      limits: { memory: f.memory ?? null, cpus: f.cpus ?? null, cpu_weight: f.cpuWeight ?? null, disk: null },
    });
    this.cts.set(name, { info: i, startedAt: null, cpuUsec: 0, mem: 40_000_000, flags: { ...f, name }, log: [], pushed: 0 });
    this.syncRootfs();
    this.emit({ kind: 'container', name });
    if (opts.start) {
      opts.onProgress?.({ kind: 'phase', message: 'booting' });
      await this.start(name, opts);
    }
    return name;
  }

  async inspect(name: string): Promise<IsolationSummary> {
    const c = this.ct(name);
    const n = c.info.network;
    const f: CreateFlags = { ...c.flags, name: '' };
    f.network = n.pod ? 'pod' : n.network_zone ? 'zone' : n.network_bridge ? 'bridge' : n.network_veth ? 'veth' : n.private_network ? 'private' : 'host';
    if (n.pod) f.pod = n.pod;
    if (n.network_zone) f.zone = n.network_zone;
    if (n.network_bridge) f.bridge = n.network_bridge;
    if (c.info.userns && f.preset === 'none') f.userns = true;
    const st = this.resolve(f).state;
    return st ? isolationSummary(isolationFromState(st)) : { items: [], notes: ['flags no longer valid'] };
  }

  async *journal(names: string | string[], opts: JournalOptions): AsyncIterable<JournalEntry> {
    const list = Array.isArray(names) ? names : [names];
    const tagged = list.length > 1;
    const hist: JournalEntry[] = [];
    const seen = new Map<string, number>();
    for (const n of list) {
      const c = this.cts.get(n);
      if (!c) continue;
      if (opts.lines > 0) hist.push(...c.log.slice(-opts.lines));
      seen.set(n, c.pushed);
    }
    hist.sort((a, b) => a.ts - b.ts);
    for (const e of hist) yield tagged ? e : { ...e, tag: '' };
    if (!opts.follow) return;
    const ticker = this.opts.journalMs > 0
      ? setInterval(() => {
          for (const n of list) {
            const c = this.cts.get(n);
            if (c?.info.status === 'running') this.pushLog(n, demoLine(this.seq++));
          }
        }, this.opts.journalMs)
      : null;
    try {
      while (!opts.signal?.aborted) {
        await new Promise<void>((res) => {
          const w = () => {
            this.logWaiters.delete(w);
            opts.signal?.removeEventListener('abort', w);
            res();
          };
          this.logWaiters.add(w);
          opts.signal?.addEventListener('abort', w, { once: true });
        });
        for (const n of list) {
          const c = this.cts.get(n);
          if (!c) continue;
          // new since last time, by absolute count (the log may have been trimmed)
          const fresh = Math.min(c.pushed - (seen.get(n) ?? 0), c.log.length);
          seen.set(n, c.pushed);
          for (const e of c.log.slice(c.log.length - fresh)) yield tagged ? e : { ...e, tag: '' };
        }
      }
    } finally {
      if (ticker) clearInterval(ticker);
    }
  }

  async readCgroupStats(name: string): Promise<CgroupStats | null> {
    const c = this.cts.get(name);
    if (!c || c.info.status !== 'running') return null;
    // deterministic-ish load: a slow wave per container
    const t = this.opts.now() / 1000;
    if (!this.opts.quiet) {
      c.cpuUsec += Math.round((0.2 + 0.15 * (1 + Math.sin(t / 7 + c.info.name.length))) * 1_500_000);
      c.mem = Math.max(10_000_000, c.mem + Math.round(Math.sin(t / 5 + c.info.name.length) * 3_000_000));
    }
    const lim = c.info.limits.memory;
    return { cpuUsageUsec: c.cpuUsec, memoryCurrent: c.mem, memoryMax: lim ? parseSize(lim) : null, startedAt: c.startedAt };
  }

  watch(onChange: (ev: WatchEvent) => void): Subscription {
    this.watchers.add(onChange);
    return { close: () => void this.watchers.delete(onChange) };
  }

  shellCommand(name: string): CommandArgv {
    return { cmd: 'machinectl', args: ['shell', name] };
  }

  async runInteractive(argv: CommandArgv): Promise<number> {
    this.calls.push(`interactive ${argv.cmd} ${argv.args.join(' ')}`);
    return 0;
  }
}

function demoLine(n: number): string {
  const k = n % 6;
  if (k === 0) return `\x1b[32mINFO\x1b[0m request ${n} served in ${n % 97} ms`;
  if (k === 1) return `GET /api/items/${n} 200`;
  if (k === 2) return `\x1b[33mWARN\x1b[0m slow query (${n % 500} ms)`;
  if (k === 3) return `download ${n % 100}%\rdownload done`;
  if (k === 4) return `worker ${n % 8}: heartbeat`;
  return `\x1b[31mERROR\x1b[0m connection reset by peer (attempt ${n % 5})`;
}

export function parseSize(s: string): number {
  const m = /^(\d+)([KMGT]?)$/.exec(s);
  if (!m) return NaN;
  const mul = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mul;
}
