/** Pure column layout for the Table component (cell widths via string-width). */
import stringWidth from 'string-width';
import cliTruncate from 'cli-truncate';

export interface ColumnSpec {
  key: string;
  title: string;
  /** minimum cells; the column is dropped (right to left by priority) when space runs out */
  min: number;
  /** share of spare width (0 = stays at min or its content width) */
  grow?: number;
  /** upper bound */
  max?: number;
  align?: 'left' | 'right';
  /** lower = kept longer when narrow; default 0 */
  drop?: number;
}

/**
 * Widths per column (0 = hidden); one space between visible columns.
 * Columns are dropped (highest `drop` first) until the essential ones fit at
 * their content width; spare width goes to columns by priority, then growers.
 */
export function layoutColumns(cols: ColumnSpec[], width: number, content: Record<string, number> = {}): number[] {
  const visible = cols.map(() => true);
  const want = (c: ColumnSpec) => Math.max(c.min, Math.min(c.max ?? Infinity, content[c.key] ?? c.min));
  // essential columns (drop 0) want their content; droppable growers settle for min
  const desired = (c: ColumnSpec) => ((c.drop ?? 0) === 0 || !c.grow ? want(c) : c.min);
  const sum = (f: (c: ColumnSpec) => number) => cols.reduce((s, c, i) => s + (visible[i] ? f(c) + 1 : 0), 0) - 1;
  const order = cols.map((c, i) => ({ i, d: c.drop ?? 0 })).filter((x) => x.d > 0).sort((a, b) => b.d - a.d || b.i - a.i);
  for (const { i } of order) {
    if (sum(desired) <= width) break;
    visible[i] = false;
  }
  for (const { i } of order) {
    if (sum((c) => c.min) <= width) break;
    visible[i] = false;
  }
  const widths = cols.map((c, i) => (visible[i] ? c.min : 0));
  let spare = width - sum((c) => c.min);
  if (spare <= 0) return widths;
  const byPrio = cols.map((c, i) => ({ c, i })).filter((x) => visible[x.i]).sort((a, b) => (a.c.drop ?? 0) - (b.c.drop ?? 0) || a.i - b.i);
  for (const { c, i } of byPrio) {
    const add = Math.min(spare, want(c) - widths[i]!);
    if (add > 0) {
      widths[i]! += add;
      spare -= add;
    }
  }
  const growers = cols.map((c, i) => (visible[i] && c.grow ? i : -1)).filter((i) => i >= 0);
  const totalGrow = growers.reduce((s, i) => s + cols[i]!.grow!, 0);
  if (totalGrow > 0 && spare > 0) {
    let left = spare;
    growers.forEach((i, k) => {
      const c = cols[i]!;
      let add = k === growers.length - 1 ? left : Math.floor((spare * c.grow!) / totalGrow);
      if (c.max !== undefined) add = Math.min(add, c.max - widths[i]!);
      add = Math.max(0, Math.min(add, left));
      widths[i]! += add;
      left -= add;
    });
  }
  return widths;
}

// printable ASCII: one cell per char (string-width segments graphemes: ~20 µs a call)
// eslint-disable-next-line no-control-regex
const ASCII = /^[\x20-\x7e]*$/;

/** Terminal cells of text; fast for printable ASCII, string-width otherwise. */
export function cellWidth(text: string): number {
  return ASCII.test(text) ? text.length : stringWidth(text);
}

/** Fit text into exactly `w` cells: truncate with an ellipsis or pad. */
export function fitCell(text: string, w: number, align: 'left' | 'right' = 'left'): string {
  if (w <= 0) return '';
  let t: string;
  if (ASCII.test(text)) {
    t = text.length > w ? (w === 1 ? '…' : text.slice(0, w - 1) + '…') : text;
  } else {
    t = stringWidth(text) > w ? cliTruncate(text, w, { position: 'end' }) : text;
    if (stringWidth(t) > w) t = cliTruncate(t, w);
  }
  const p = ' '.repeat(Math.max(0, w - cellWidth(t)));
  return align === 'right' ? p + t : t + p;
}

/** First row index shown so that `selected` stays inside a window of `height` rows. */
export function scrollTop(prevTop: number, selected: number, height: number, total: number): number {
  if (height <= 0) return 0;
  let top = Math.min(prevTop, Math.max(0, total - height));
  if (selected < top) top = selected;
  if (selected >= top + height) top = selected - height + 1;
  return Math.max(0, top);
}
