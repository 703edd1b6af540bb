/**
 * The TUI's live model (zustand, vanilla store): fed by the port's watch()
 * events (targeted re-reads, never a re-list per tick) and by a stats sampler
 * that reads cgroup counters of running containers every `statsMs` (every
 * `idleStatsMs` after `idleAfterMs` without input). A sample is committed to
 * the store (one set, so one redraw) only when the strings the screen shows
 * for it change: the UI registers that as a display key (setDisplayKey).
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

/** Formatted stat strings the screen shows for `stats` at `now` (the UI supplies it). */
export type DisplayKey = (stats: Record<string, StatSeries>, now: number) => string;

export interface ControllerOptions {
  /** sampling interval while in use (default 1500 ms; 0 = no sampler) */
  statsMs?: number;
  /** sampling interval once idle (default 5000 ms) */
  idleStatsMs?: number;
  /** no input for this long = idle (default 30 s) */
  idleAfterMs?: number;
  now?: () => number;
}

/** How long a status message shows. */
export const STATUS_MS = 8000;

export class AppController {
  readonly store: StoreApi<AppState>;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private sampling = false;
  private running = false;
  /** newest samples; the store holds the last committed ones */
  private series: Record<string, StatSeries> = {};
  private displayKey: DisplayKey | null = null;
  /** display key of what the screen shows now */
  private shownKey: string | null = null;
  private lastInput = 0;
  /** interval the pending sample was scheduled with */
  private interval = 0;

  constructor(readonly port: EnginePort, private opts: ControllerOptions = {}) {
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
    this.running = true;
    this.lastInput = this.now();
    this.sub = this.port.watch((ev) => void this.onEvent(ev));
    await this.refreshAll();
    void this.port.host().then(
      (host) => this.store.setState({ host }),
      (e) => this.setStatus(errorText(e), 'error'),
    );
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.sub?.close();
    this.sub = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
  }

  /** Sampling interval now: statsMs, or idleStatsMs after idleAfterMs without input. */
  currentInterval(): number {
    const busy = this.opts.statsMs ?? 1500;
    const idle = Math.max(busy, this.opts.idleStatsMs ?? 5000);
    return this.now() - this.lastInput >= (this.opts.idleAfterMs ?? 30_000) ? idle : busy;
  }

  /** One sample, then the next one scheduled. */
  private tick(): void {
    void this.sampleStats()
      .catch((e: unknown) => this.setStatus(errorText(e), 'error'))
      .finally(() => this.schedule());
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.running || !((this.opts.statsMs ?? 1500) > 0)) return;
    this.interval = this.currentInterval();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, this.interval);
  }

  /** A key was pressed: leave the idle interval (sampling at once). */
  noteInput(): void {
    this.lastInput = this.now();
    if (this.running && this.timer && this.interval > (this.opts.statsMs ?? 1500)) {
      clearTimeout(this.timer);
      this.timer = null;
      this.tick();
    }
  }

  /**
   * The UI's display key; call after each render. Commits pending samples
   * when they would show differently from what the screen has now (e.g. a
   * newly selected container's sparkline). null = commit every sample.
   */
  setDisplayKey(fn: DisplayKey | null): void {
    this.displayKey = fn;
    if (!fn) return;
    const now = this.now();
    const committed = this.store.getState().stats;
    this.shownKey = fn(committed, now);
    if (this.series === committed) return;
    const k = fn(this.series, now);
    if (k !== this.shownKey) {
      this.shownKey = k;
      this.store.setState({ stats: this.series });
    }
  }

  setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
    const status = { text, kind, at: Date.now() };
    this.store.setState({ status });
    // clear it when it expires (nothing else may redraw the screen by then)
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      if (this.store.getState().status === status) this.store.setState({ status: null });
    }, STATUS_MS);
    this.statusTimer.unref?.();
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
    let stats = this.store.getState().stats;
    if (!row || row.status === 'stopped') {
      stats = { ...stats };
      delete stats[name];
      if (name in this.series) {
        this.series = { ...this.series };
        delete this.series[name];
      }
    }
    this.store.setState({ containers: sortByName(list), stats });
  }

  /** Read the running containers' counters once. */
  async sampleStats(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const running = this.store.getState().containers.filter((c) => c.status === 'running');
      const results = await Promise.all(
        running.map(async (c) => [c.name, await this.port.readCgroupStats(c.name).catch(() => null)] as const),
      );
      const now = this.now();
      const prev = this.series;
      const stats: Record<string, StatSeries> = {};
      for (const [name, s] of results) if (s) stats[name] = nextSeries(prev[name], s, now);
      this.series = stats;
      // one store set per sample, and none when the screen would not change
      const k = this.displayKey?.(stats, now);
      if (k === undefined || k !== this.shownKey) {
        if (k !== undefined) this.shownKey = k;
        this.store.setState({ stats });
      }
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
