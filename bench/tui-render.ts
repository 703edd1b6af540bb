/**
 * Render cost of the Containers view with N synthetic rows (DemoPort, fake
 * terminal 120x40): ms per frame for a selection move (j), against baselines
 * measured in the same run: the same app with an empty list, and a plain
 * string-width table of the same N rows built and joined as text.
 *
 *   node dist/.bench/bench/tui-render.js [rows=500] [frames=200]
 */
import stringWidth from 'string-width';
import { fitCell, layoutColumns } from '../src/components/table-layout.js';
import { fmt, mountApp, percentile } from './tui-harness.js';

const ROWS = Number(process.argv[2] ?? 500);
const FRAMES = Number(process.argv[3] ?? 200);

/** ms per frame for FRAMES selection moves (j/k alternating around the middle). */
async function appFrames(extra: number): Promise<number[]> {
  const m = await mountApp({ cols: 120, rows: 40, demo: { extra, history: 5 } });
  const times: number[] = [];
  // warm-up
  for (let i = 0; i < 10; i++) {
    const w = m.stdout.nextWrite();
    m.stdin.write(i % 2 ? 'k' : 'j');
    await w;
  }
  for (let i = 0; i < FRAMES; i++) {
    const w = m.stdout.nextWrite();
    const t0 = performance.now();
    m.stdin.write(i % 2 ? 'k' : 'j');
    await w;
    times.push(performance.now() - t0);
  }
  m.close();
  return times;
}

/** The same rows as plain text: column layout + fitCell + join, no React/Ink. */
function plainTable(n: number): number[] {
  const cols = [
    { key: 'name', title: 'NAME', min: 8, grow: 2, max: 28 },
    { key: 'status', title: 'STATUS', min: 8, max: 12 },
    { key: 'os', title: 'OS', min: 6, grow: 2, max: 30 },
    { key: 'rootfs', title: 'ROOTFS', min: 6, grow: 1, max: 16 },
    { key: 'cpu', title: 'CPU', min: 6 },
  ];
  const rows = Array.from({ length: n }, (_, i) => ({ name: `ct-${String(i).padStart(4, '0')}`, status: i % 3 ? 'stopped' : 'running', os: 'Debian GNU/Linux 12 (bookworm)', rootfs: 'debian', cpu: '-' }) as Record<string, string>);
  const times: number[] = [];
  for (let f = 0; f < FRAMES; f++) {
    const t0 = performance.now();
    const content: Record<string, number> = {};
    for (const c of cols) content[c.key] = Math.max(stringWidth(c.title), ...rows.map((r) => stringWidth(r[c.key]!)));
    const w = layoutColumns(cols, 118, content);
    const text = rows.map((r) => cols.map((c, i) => fitCell(r[c.key]!, w[i]!)).join(' ')).join('\n');
    if (n > 0 && text.length === 0) throw new Error('empty table text');
    times.push(performance.now() - t0);
  }
  return times;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const full = await appFrames(ROWS);
const empty = await appFrames(0);
const plain = plainTable(ROWS);
const mf = mean(full);
const me = mean(empty);
const mp = mean(plain);
console.log(`tui-render: containers view 120x40, ${ROWS} rows (+5 fixed), ${FRAMES} frames each (selection move)`);
console.log(`  app, ${ROWS} rows     : ${fmt(mf)} ms/frame  (p50 ${fmt(percentile(full, 50))}, p95 ${fmt(percentile(full, 95))})`);
console.log(`  app, 5 rows (base) : ${fmt(me)} ms/frame  (p50 ${fmt(percentile(empty, 50))}, p95 ${fmt(percentile(empty, 95))})`);
console.log(`  plain text table   : ${fmt(mp, 3)} ms/frame for the same ${ROWS} rows (string-width + fitCell)`);
console.log(`  ratio app(${ROWS}) / app(5 rows)   = ${fmt(mf / me)}x`);
console.log(`  ratio app(${ROWS}) / plain table = ${fmt(mf / mp, 1)}x`);
process.exit(0);
