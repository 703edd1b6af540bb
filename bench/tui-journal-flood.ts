/**
 * Journal flood: RATE lines/s for SECONDS into the journal pane of the
 * selected container (DemoPort, fake 120x40 terminal in Ink's real throttled
 * mode), while a key is pressed every 250 ms. Key-to-frame latency = from
 * the key's bytes on stdin to the first frame written that shows its effect
 * ('/' opens the filter prompt, Enter closes it). Target: p95 < 100 ms.
 *
 *   node dist/.bench/bench/tui-journal-flood.js [rate=20000] [seconds=10]
 */
import { fmt, mountApp, percentile, sleep } from './tui-harness.js';

const RATE = Number(process.argv[2] ?? 20_000);
const SECONDS = Number(process.argv[3] ?? 10);
const TARGET_P95_MS = 100;

const m = await mountApp({ cols: 120, rows: 40, demo: { extra: 0, history: 50 }, debug: false, statsMs: 1500 });
// select 'db' (running) so its journal is the followed one
m.stdin.write('j');
await sleep(400);

let pushed = 0;
const t0 = performance.now();
const flood = setInterval(() => {
  const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - t0) / 1000) * RATE));
  for (; pushed < due; pushed++) m.port.pushLog('db', `GET /api/items/${pushed} 200 in ${pushed % 97} ms \x1b[32mok\x1b[0m`);
}, 5);

const latencies: number[] = [];
/** press key; resolve with ms until a written frame satisfies shown */
function press(key: string, shown: (frame: string) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const t = performance.now();
    const orig = m.stdout.write;
    m.stdout.write = (s: string) => {
      const r = orig(s);
      if (shown(s)) {
        m.stdout.write = orig;
        resolve(performance.now() - t);
      }
      return r;
    };
    m.stdin.write(key);
  });
}

let open = false;
while (performance.now() - t0 < SECONDS * 1000) {
  await sleep(250);
  const ms = open
    ? await press('\r', (f) => f.includes('n new') && !f.includes('filter: '))
    : await press('/', (f) => f.includes('filter: '));
  open = !open;
  latencies.push(ms);
}
clearInterval(flood);
const elapsed = (performance.now() - t0) / 1000;
const writes = m.stdout.frames;
await sleep(300);
// the pane must really have followed the flood: the last line is on screen
const lastShown = m.stdout.last.includes(`items/${pushed - 1} `);
m.close();

const p50 = percentile(latencies, 50);
const p95 = percentile(latencies, 95);
console.log(`tui-journal-flood: ${RATE} lines/s for ${SECONDS} s into the journal pane (120x40, Ink throttled mode)`);
console.log(`  lines pushed      : ${pushed} (${fmt(pushed / elapsed, 0)} lines/s achieved)`);
console.log(`  last line shown   : ${lastShown ? 'yes' : 'NO'} (items/${pushed - 1})`);
console.log(`  frames written    : ${writes} (${fmt(writes / elapsed, 1)}/s)`);
console.log(`  key-to-frame      : p50 ${fmt(p50, 1)} ms, p95 ${fmt(p95, 1)} ms, max ${fmt(Math.max(...latencies), 1)} ms over ${latencies.length} keys`);
console.log(`  target p95 < ${TARGET_P95_MS} ms: ${p95 < TARGET_P95_MS ? 'MET' : 'NOT MET'}`);
process.exit(lastShown ? 0 : 1);
