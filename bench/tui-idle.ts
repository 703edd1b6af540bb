/**
 * Idle CPU: the app in demo mode with 20 containers (8 running), a running
 * one selected (journal followed, detail pane shown), Ink's real throttled
 * mode, no new journal lines. Two windows after the last key press:
 *   in use : the first 30 s (stats sampled every 1.5 s)
 *   idle   : from 30 s on (the sampler backs off to 5 s)
 * Prints process.cpuUsage as % of one core against the 1% target (idle), the
 * frames written and the samples that reached the store.
 *
 * The demo's containers carry a changing load (cpu % moves every sample);
 * DEMO_QUIET=1 makes them idle like real ones (counters stand still), where
 * only uptime and the growing sparklines change what the screen shows.
 *
 *   node dist/.bench/bench/tui-idle.js [inUseSeconds=26] [idleSeconds=30]
 */
import { fmt, mountApp, sleep } from './tui-harness.js';

const IN_USE_S = Number(process.argv[2] ?? 26);
const IDLE_S = Number(process.argv[3] ?? 30);
const TARGET_PCT = 1;
const IDLE_AFTER_MS = 30_000;

const m = await mountApp({
  cols: 120,
  rows: 40,
  demo: { extra: 15, history: 50, journalMs: 0, quiet: !!process.env.DEMO_QUIET },
  debug: false,
  statsMs: Number(process.env.STATS_MS ?? 1500),
  idleStatsMs: 5000,
  idleAfterMs: IDLE_AFTER_MS,
});
let commits = 0;
m.ctl.store.subscribe((s, prev) => void (s.stats !== prev.stats && commits++));
m.stdin.write('j'); // db: running
const keyAt = performance.now();
await sleep(2000); // settle: journal history, isolation read, first samples

async function measure(seconds: number) {
  const f0 = m.stdout.frames;
  const k0 = commits;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  return { pct: ((c.user + c.system) / 1000 / wall) * 100, c, wall, frames: m.stdout.frames - f0, commits: commits - k0 };
}

const inUse = await measure(IN_USE_S);
await sleep(Math.max(0, keyAt + IDLE_AFTER_MS + 1000 - performance.now()));
const idle = await measure(IDLE_S);
m.close();
const running = (await m.port.listContainers()).filter((x) => x.status === 'running').length;
console.log(`tui-idle: demo mode, 20 containers (${running} running, ${process.env.DEMO_QUIET ? 'quiet' : 'changing load'}), 120x40, no input`);
for (const [label, r, every] of [['in use (<30 s after a key)', inUse, 1.5], ['idle (>30 s after a key)', idle, 5]] as const) {
  console.log(`  ${label}: cpu ${fmt(r.pct, 2)}% of one core (user ${fmt(r.c.user / 1000, 0)} ms, system ${fmt(r.c.system / 1000, 0)} ms over ${fmt(r.wall / 1000, 1)} s)`);
  console.log(`    frames ${r.frames} (${fmt(r.frames / (r.wall / 1000), 2)}/s), store commits ${r.commits}, samples every ${every} s`);
}
console.log(`  target < ${TARGET_PCT}% of a core when idle: ${idle.pct < TARGET_PCT ? 'MET' : 'NOT MET'}`);
process.exit(0);
