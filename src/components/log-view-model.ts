/**
 * Pure model of the journal pane: which visual rows are visible given a ring
 * of entries, a width, a height and a scroll anchor. Only entries that reach
 * the viewport are sanitised and wrapped (and cached by id).
 */
import stringWidth from 'string-width';
import type { FeedEntry } from '../state/journal-feed.js';
import type { Ring } from '../state/ring.js';
import { sanitizeLog, wrapSegments, segmentsText, type Segment } from './log-text.js';

/** Bottom of the view: absolute entry position (ring.dropped + index) and rows of it hidden below. */
export interface Anchor {
  pos: number;
  rowsBelow: number;
}

export interface ViewOpts {
  width: number;
  height: number;
  showTs: boolean;
  showTag: boolean;
  /** null = follow the tail */
  anchor: Anchor | null;
  search?: string;
}

export interface VisualRow {
  /** prefix (timestamp/tag), only on an entry's first row; blank indent on continuations */
  prefix: string;
  tag?: string;
  segs: Segment[];
  entryId: number;
}

export function formatTs(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

interface Cached {
  key: string;
  rows: VisualRow[];
}

export class LogLayoutCache {
  private map = new Map<number, Cached>();

  rowsFor(e: FeedEntry, o: Pick<ViewOpts, 'width' | 'showTs' | 'showTag'>): VisualRow[] {
    const key = `${o.width}|${o.showTs}|${o.showTag}`;
    const c = this.map.get(e.id);
    if (c && c.key === key) return c.rows;
    const rows = layoutEntry(e, o);
    this.map.set(e.id, { key, rows });
    if (this.map.size > 4000) {
      // drop the oldest half (Map keeps insertion order)
      let n = this.map.size / 2;
      for (const k of this.map.keys()) {
        if (n-- <= 0) break;
        this.map.delete(k);
      }
    }
    return rows;
  }
}

/** Sanitise and wrap one entry into visual rows. */
export function layoutEntry(e: FeedEntry, o: Pick<ViewOpts, 'width' | 'showTs' | 'showTag'>): VisualRow[] {
  let prefix = '';
  if (o.showTs) prefix += formatTs(e.ts) + ' ';
  const tagText = o.showTag && e.tag ? `[${e.tag}] ` : '';
  const pw = stringWidth(prefix) + stringWidth(tagText);
  const avail = Math.max(4, o.width - pw);
  const out: VisualRow[] = [];
  let first = true;
  for (const line of sanitizeLog(e.message)) {
    for (const segs of wrapSegments(line, avail)) {
      out.push(
        first
          ? { prefix, tag: tagText || undefined, segs, entryId: e.id }
          : { prefix: ' '.repeat(pw), segs, entryId: e.id },
      );
      first = false;
    }
  }
  return out;
}

/** Visible rows, top to bottom; fewer than height when the journal is short. */
export function visibleRows(ring: Ring<FeedEntry>, o: ViewOpts, cache = new LogLayoutCache()): VisualRow[] {
  const h = Math.max(0, o.height);
  if (h === 0 || ring.length === 0) return [];
  let idx: number;
  let skip: number;
  if (o.anchor) {
    idx = Math.min(ring.length - 1, o.anchor.pos - ring.dropped);
    skip = o.anchor.rowsBelow;
    if (idx < 0) {
      idx = 0;
      skip = 0;
    }
  } else {
    idx = ring.length - 1;
    skip = 0;
  }
  const acc: VisualRow[][] = [];
  let count = 0;
  for (let i = idx; i >= 0 && count < h; i--) {
    let rows = cache.rowsFor(ring.at(i)!, o);
    if (i === idx && skip > 0) rows = rows.slice(0, Math.max(0, rows.length - skip));
    acc.push(rows);
    count += rows.length;
  }
  const flat = acc.reverse().flat();
  // scrolled near the top: fill the rest of the view with what follows the anchor
  if (o.anchor && flat.length < h) {
    const idx0 = Math.min(ring.length - 1, Math.max(0, o.anchor.pos - ring.dropped));
    if (skip > 0) flat.push(...cache.rowsFor(ring.at(idx0)!, o).slice(-skip));
    for (let i = idx0 + 1; i < ring.length && flat.length < h; i++) flat.push(...cache.rowsFor(ring.at(i)!, o));
    return flat.slice(0, h);
  }
  return flat.slice(Math.max(0, flat.length - h));
}

/** Move the anchor up (delta < 0) or down (delta > 0) by rows; returns null when back at the tail. */
export function scrollAnchor(
  ring: Ring<FeedEntry>,
  o: ViewOpts,
  delta: number,
  cache = new LogLayoutCache(),
): Anchor | null {
  if (ring.length === 0) return null;
  let idx = o.anchor ? Math.min(ring.length - 1, Math.max(0, o.anchor.pos - ring.dropped)) : ring.length - 1;
  let below = o.anchor ? o.anchor.rowsBelow : 0;
  const rowsOf = (i: number) => cache.rowsFor(ring.at(i)!, o).length;
  if (delta < 0) {
    let n = -delta;
    while (n > 0) {
      const total = rowsOf(idx);
      if (below + 1 < total) {
        below++;
      } else if (idx > 0) {
        idx--;
        below = 0;
      } else break;
      n--;
    }
    // never scroll past the point where the top of the journal is at the top of the view
    return { pos: idx + ring.dropped, rowsBelow: below };
  }
  let n = delta;
  while (n > 0) {
    if (below > 0) below--;
    else if (idx < ring.length - 1) {
      idx++;
      below = rowsOf(idx) - 1;
    } else break;
    n--;
  }
  if (idx === ring.length - 1 && below === 0) return null;
  return { pos: idx + ring.dropped, rowsBelow: below };
}

/** Absolute position of the next entry matching `term` strictly older (dir -1) or newer (+1) than from. */
export function findMatch(ring: Ring<FeedEntry>, term: string, fromPos: number, dir: -1 | 1): number | null {
  if (!term) return null;
  const t = term.toLowerCase();
  let i = fromPos - ring.dropped + dir;
  for (; i >= 0 && i < ring.length; i += dir) {
    const text = sanitizeLog(ring.at(i)!.message)
      .map((l) => segmentsText(l))
      .join('\n')
      .toLowerCase();
    if (text.includes(t)) return i + ring.dropped;
  }
  return null;
}

/** Split segments so that occurrences of term get inverse video. */
export function highlight(segs: Segment[], term: string | undefined): Segment[] {
  if (!term) return segs;
  const text = segmentsText(segs);
  const lower = text.toLowerCase();
  const t = term.toLowerCase();
  const marks: boolean[] = new Array(text.length).fill(false);
  let found = false;
  for (let p = lower.indexOf(t); p !== -1; p = lower.indexOf(t, p + Math.max(1, t.length))) {
    for (let k = p; k < p + t.length; k++) marks[k] = true;
    found = true;
  }
  if (!found) return segs;
  const out: Segment[] = [];
  let off = 0;
  for (const s of segs) {
    let start = 0;
    for (let k = 1; k <= s.text.length; k++) {
      if (k === s.text.length || marks[off + k] !== marks[off + start]) {
        const part = s.text.slice(start, k);
        out.push({ text: part, style: marks[off + start] ? { ...s.style, inverse: true } : s.style });
        start = k;
      }
    }
    off += s.text.length;
  }
  return out;
}
