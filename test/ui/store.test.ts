import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppController, STATUS_MS, type StatSeries } from '../../src/state/store.js';
import type { CgroupStats, ContainerInfo, EnginePort } from '../../src/state/engine-port.js';
import { statCells, statsDisplayKey } from '../../src/ui/App.js';
import { detailStatTexts } from '../../src/ui/panes.js';

const ct = (name: string, status: ContainerInfo['status'] = 'running') => ({ name, status, network: {}, limits: {} }) as unknown as ContainerInfo;

/** fake port: fixed containers, cgroup counters set by the test, reads counted */
function fakeStatsPort(names: string[]) {
  const counters = new Map<string, CgroupStats>(names.map((n) => [n, { cpuUsageUsec: 0, memoryCurrent: 100 << 20, memoryMax: null, startedAt: 1_000 }]));
  let reads = 0;
  const port = {
    host: async () => ({ hostname: 'h', systemdVersion: 252, datadir: '/d', sandbox: false }),
    listContainers: async () => names.map((n) => ct(n)),
    listPods: async () => [],
    listRootfs: async () => [],
    watch: () => ({ close() {} }),
    readCgroupStats: async (n: string) => {
      reads++;
      return { ...counters.get(n)! };
    },
  } as unknown as EnginePort;
  return { port, counters, reads: () => reads };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('AppController stats sampler (fake port, fake timers)', () => {
  it('commits a sample only when the display key changes, then with the newest series', async () => {
    vi.useFakeTimers();
    let now = 100_000;
    const f = fakeStatsPort(['a']);
    const ctl = new AppController(f.port, { statsMs: 1000, now: () => now });
    await ctl.start();
    await vi.advanceTimersByTimeAsync(0);
    // the UI shows the cpu cell only
    ctl.setDisplayKey((stats) => statCells(ct('a'), stats.a, now).cpu);
    let commits = 0;
    ctl.store.subscribe((s, p) => void (s.stats !== p.stats && commits++));
    // 1% cpu each second: first sample sets the rate, then it stays at "1.0%"
    for (let i = 0; i < 4; i++) {
      now += 1000;
      f.counters.get('a')!.cpuUsageUsec! += 10_000;
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(f.reads()).toBe(5);
    expect(commits).toBe(1);
    expect(ctl.store.getState().stats.a!.cpuPct).toBeCloseTo(1);
    expect(ctl.store.getState().stats.a!.cpu).toHaveLength(1);
    // load doubles: the cell changes, the committed series carries all samples
    now += 1000;
    f.counters.get('a')!.cpuUsageUsec! += 20_000;
    await vi.advanceTimersByTimeAsync(1000);
    expect(commits).toBe(2);
    expect(ctl.store.getState().stats.a!.cpu.map((x) => Math.round(x))).toEqual([1, 1, 1, 1, 2]);
    ctl.stop();
  });

  it('setDisplayKey commits pending samples that the new view would show differently', async () => {
    vi.useFakeTimers();
    let now = 100_000;
    const f = fakeStatsPort(['a']);
    const ctl = new AppController(f.port, { statsMs: 1000, now: () => now });
    await ctl.start();
    await vi.advanceTimersByTimeAsync(0);
    ctl.setDisplayKey(() => ''); // another tab: no stats on screen
    const before = ctl.store.getState().stats;
    now += 1000;
    f.counters.get('a')!.memoryCurrent = 300 << 20;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ctl.store.getState().stats).toBe(before);
    ctl.setDisplayKey((stats) => statCells(ct('a'), stats.a, now).mem);
    expect(ctl.store.getState().stats.a!.memCurrent).toBe(300 << 20);
    // nothing pending: the same key again does not commit
    const committed = ctl.store.getState().stats;
    ctl.setDisplayKey((stats) => statCells(ct('a'), stats.a, now).mem);
    expect(ctl.store.getState().stats).toBe(committed);
    ctl.stop();
  });

  it('backs off to idleStatsMs after idleAfterMs without input and returns at the next key', async () => {
    vi.useFakeTimers();
    const t0 = Date.now();
    const f = fakeStatsPort(['a']);
    const ctl = new AppController(f.port, { statsMs: 1500, idleStatsMs: 5000, idleAfterMs: 30_000, now: () => Date.now() });
    await ctl.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.reads()).toBe(1);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(f.reads()).toBe(1 + 19); // every 1.5 s
    expect(ctl.currentInterval()).toBe(1500);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.reads()).toBe(21);
    expect(ctl.currentInterval()).toBe(5000);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(f.reads()).toBe(21 + 4); // every 5 s
    // a key: sampled at once, then every 1.5 s again
    const r0 = f.reads();
    ctl.noteInput();
    await vi.advanceTimersByTimeAsync(0);
    expect(f.reads()).toBe(r0 + 1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(f.reads()).toBe(r0 + 3);
    expect(Date.now() - t0).toBeGreaterThan(50_000);
    ctl.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(f.reads()).toBe(r0 + 3);
  });

  it('a status message is cleared from the store when it expires', async () => {
    vi.useFakeTimers();
    const f = fakeStatsPort([]);
    const ctl = new AppController(f.port, { statsMs: 0 });
    ctl.setStatus('start a: ok');
    await vi.advanceTimersByTimeAsync(STATUS_MS - 1);
    expect(ctl.store.getState().status?.text).toBe('start a: ok');
    await vi.advanceTimersByTimeAsync(1);
    expect(ctl.store.getState().status).toBeNull();
  });
});

describe('statsDisplayKey (pure)', () => {
  const series = (cpuPct: number, mem: number): StatSeries => ({
    cpu: [cpuPct], mem: [mem], cpuPct, memCurrent: mem, memMax: null, startedAt: 1000, lastUsec: 0, lastAt: 0,
  });
  const rows = ['a', 'b', 'c', 'd'].map((n) => ct(n));
  const view = { rows: () => rows, from: 0, to: 2, detail: null };
  it('covers the rows in the window only, formatted as the table shows them', () => {
    const s1 = { a: series(1.01, 1 << 20), b: series(2, 1 << 20), c: series(3, 1 << 20) };
    const k = statsDisplayKey(s1, 62_000, view);
    expect(k).toBe('a\t1.0%\t1.0M/∞\t1m01s\nb\t2.0%\t1.0M/∞\t1m01s');
    // a change below the shown precision, or outside the window: same key
    expect(statsDisplayKey({ ...s1, a: series(1.04, 1 << 20), c: series(9, 1 << 20) }, 62_500, view)).toBe(k);
    expect(statsDisplayKey({ ...s1, a: series(1.06, 1 << 20) }, 62_000, view)).not.toBe(k);
    expect(statsDisplayKey(s1, 63_000, view)).not.toBe(k);
  });
  it('includes the detail pane sparklines when the detail is shown', () => {
    const s1 = { a: series(50, 1 << 20) };
    const d = { ...view, to: 0, detail: { name: 'a', inner: 48 } };
    const t = detailStatTexts(s1.a, 48);
    expect(statsDisplayKey(s1, 0, d)).toBe(t.cpuSpark + t.cpuText + t.memSpark + t.memText);
    expect(t.cpuSpark).toHaveLength(24);
    const s2 = { a: { ...series(50, 1 << 20), cpu: [50, 100], cpuPct: 100 } };
    expect(statsDisplayKey(s2, 0, d)).not.toBe(statsDisplayKey(s1, 0, d));
  });
});
