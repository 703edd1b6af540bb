/**
 * Idle CPU: the app in demo mode with 20 containers (7 running), a running
 * one selected (journal followed, detail pane shown), Ink's real throttled
 * mode, the stats sampler at its default 1.5 s, no input and no new journal
 * lines, for SECONDS. Prints process.cpuUsage as % of one core against the
 * 1% target.
 *
 *   node dist/.bench/bench/tui-idle.js [seconds=30]
 */
import { fmt, mountApp, sleep } from './tui-harness.js';

const SECONDS = Number(process.argv[2] ?? 30);
const TARGET_PCT = 1;

const m = await mountApp({ cols: 120, rows: 40, demo: { extra: 15, history: 50, journalMs: 0 }, debug: false, statsMs: Number(process.env.STATS_MS ?? 1500) });
m.stdin.write('j'); // db: running
await sleep(2000); // settle: journal history, isolation read, first samples
const before = m.stdout.frames;
const c0 = process.cpuUsage();
const t0 = performance.now();
await sleep(SECONDS * 1000);
const c = process.cpuUsage(c0);
const wall = performance.now() - t0;
const frames = m.stdout.frames - before;
m.close();
const pct = ((c.user + c.system) / 1000 / wall) * 100;
console.log(`tui-idle: demo mode, 20 containers (${(await m.port.listContainers()).filter((x) => x.status === 'running').length} running), 120x40, idle for ${SECONDS} s`);
console.log(`  cpu               : ${fmt(pct, 2)}% of one core (user ${fmt(c.user / 1000, 0)} ms, system ${fmt(c.system / 1000, 0)} ms over ${fmt(wall / 1000, 1)} s)`);
console.log(`  frames written    : ${frames} (${fmt(frames / (wall / 1000), 2)}/s; stats samples every 1.5 s)`);
console.log(`  target < ${TARGET_PCT}% of a core: ${pct < TARGET_PCT ? 'MET' : 'NOT MET'}`);
process.exit(0);
