/**
 * The TUI's live model (zustand, vanilla store): fed by the port's watch()
 * events (targeted re-reads, never a re-list per tick) and by a stats sampler
 * that reads cgroup counters of running containers every `statsMs`.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ContainerInfo, EnginePort, HostInfo, PodInfo, RootfsInfo, Subscription, WatchEvent } from './engine-port.js';

export const HISTORY = 40;

export interface StatSeries {
  cpu: number[];
  mem: number[];
  cpuPct: number | null;
  memCurrent: number | null;
  memMax: number | null;
  startedAt: number | null;
  /** null when the host does not expose cpu usage */
  lastUsec: number | null;
  lastAt: number;
}

export interface StatusMsg {
  text: string;
  kind: 'info' | 'error';
  at: number;
}

export interface AppState {
  host: HostInfo | null;
  containers: ContainerInfo[];
  pods: PodInfo[];
  rootfs: RootfsInfo[];
  stats: Record<string, StatSeries>;
  /** name -> label of the action in flight */
  busy: Record<string, string>;
  status: StatusMsg | null;
  loaded: boolean;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0] ?? String(e);
  return String(e);
}

/** Next stats series after a sample (pure; `now` in ms). */
export function nextSeries(prev: StatSeries | undefined, s: { cpuUsageUsec: number | null; memoryCurrent: number | null; memoryMax: number | null; startedAt?: number | null }, now: number): StatSeries {
  let cpuPct: number | null = null;
  if (prev && prev.lastUsec !== null && s.cpuUsageUsec !== null && now > prev.lastAt && s.cpuUsageUsec >= prev.lastUsec) {
    cpuPct = ((s.cpuUsageUsec - prev.lastUsec) / ((now - prev.lastAt) * 1000)) * 100;
  }
  const cpu = prev ? [...prev.cpu] : [];
  const mem = prev ? [...prev.mem] : [];
  if (cpuPct !== null) cpu.push(cpuPct);
  if (s.memoryCurrent !== null) mem.push(s.memoryCurrent);
  return {
    cpu: cpu.slice(-HISTORY),
    mem: mem.slice(-HISTORY),
    cpuPct,
    memCurrent: s.memoryCurrent,
    memMax: s.memoryMax,
    startedAt: s.startedAt ?? prev?.startedAt ?? null,
    lastUsec: s.cpuUsageUsec,
    lastAt: now,
  };
}

export class AppController {
  readonly store: StoreApi<AppState>;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(readonly port: EnginePort, private opts: { statsMs?: number; now?: () => number } = {}) {
    this.store = createStore<AppState>(() => ({
      host: null,
      containers: [],
      pods: [],
      rootfs: [],
      stats: {},
      busy: {},
      status: null,
      loaded: false,
    }));
  }

  now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  async start(): Promise<void> {
    this.sub = this.port.watch((ev) => void this.onEvent(ev));
    await this.refreshAll();
    void this.port.host().then(
      (host) => this.store.setState({ host }),
      (e) => this.setStatus(errorText(e), 'error'),
    );
    const ms = this.opts.statsMs ?? 1500;
    if (ms > 0) this.timer = setInterval(() => void this.sampleStats(), ms);
    void this.sampleStats();
  }

  stop(): void {
    this.sub?.close();
    this.sub = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
    this.store.setState({ status: { text, kind, at: Date.now() } });
  }

  async refreshAll(): Promise<void> {
    try {
      const [containers, pods, rootfs] = await Promise.all([
        this.port.listContainers(),
        this.port.listPods(),
        this.port.listRootfs(),
      ]);
      this.store.setState({ containers: sortByName(containers), pods, rootfs, loaded: true });
    } catch (e) {
      this.store.setState({ loaded: true });
      this.setStatus(errorText(e), 'error');
    }
  }

  async onEvent(ev: WatchEvent): Promise<void> {
    try {
      if (ev.kind === 'container') await this.refreshOne(ev.name);
      else if (ev.kind === 'pods') this.store.setState({ pods: await this.port.listPods() });
      else if (ev.kind === 'rootfs') this.store.setState({ rootfs: await this.port.listRootfs() });
      else await this.refreshAll();
    } catch (e) {
      this.setStatus(errorText(e), 'error');
    }
  }

  async refreshOne(name: string): Promise<void> {
    const row = await this.port.getContainer(name);
    const list = this.store.getState().containers.filter((c) => c.name !== name);
    if (row) list.push(row);
    const stats = { ...this.store.getState().stats };
    if (!row || row.status === 'stopped') delete stats[name];
    this.store.setState({ containers: sortByName(list), stats });
  }

  async sampleStats(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const running = this.store.getState().containers.filter((c) => c.status === 'running');
      const results = await Promise.all(
        running.map(async (c) => [c.name, await this.port.readCgroupStats(c.name).catch(() => null)] as const),
      );
      const now = this.now();
      const prev = this.store.getState().stats;
      const stats: Record<string, StatSeries> = {};
      for (const [name, s] of results) if (s) stats[name] = nextSeries(prev[name], s, now);
      this.store.setState({ stats });
    } finally {
      this.sampling = false;
    }
  }

  /**
   * Run a slow action without blocking input: marks the row busy, reports the
   * result or error on the status line, refreshes the row. Never throws.
   */
  async act(name: string, label: string, fn: () => Promise<unknown>, done?: string): Promise<boolean> {
    if (this.store.getState().busy[name]) {
      this.setStatus(`${name}: ${this.store.getState().busy[name]} already in progress`, 'error');
      return false;
    }
    this.store.setState((s) => ({ busy: { ...s.busy, [name]: label } }));
    let ok = true;
    try {
      await fn();
      this.setStatus(done ?? `${label} ${name}: done`);
    } catch (e) {
      ok = false;
      this.setStatus(`${label} ${name}: ${errorText(e)}`, 'error');
    } finally {
      this.store.setState((s) => {
        const busy = { ...s.busy };
        delete busy[name];
        return { busy };
      });
      await this.refreshOne(name).catch(() => undefined);
    }
    return ok;
  }
}

function sortByName(list: ContainerInfo[]): ContainerInfo[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
