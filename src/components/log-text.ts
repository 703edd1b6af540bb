/**
 * Turning a raw log message into styled, terminal-safe segments and wrapping
 * them by cell width. Nothing from a log line reaches the terminal as an escape:
 * SGR colours become styles (rendered by Ink), every other control sequence is
 * dropped, CR keeps only the last segment, C0/C1 controls are removed.
 */
import stringWidth from 'string-width';

export interface SegStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export interface Segment {
  text: string;
  style: SegStyle;
}

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
const BRIGHT = BASIC.map((c) => c + 'Bright');

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** xterm 256-colour index -> colour name or #rrggbb */
export function color256(n: number): string | undefined {
  if (!Number.isInteger(n) || n < 0 || n > 255) return undefined;
  if (n < 8) return BASIC[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n < 232) {
    const i = n - 16;
    const lv = [0, 95, 135, 175, 215, 255];
    return `#${hex(lv[Math.floor(i / 36)]!)}${hex(lv[Math.floor(i / 6) % 6]!)}${hex(lv[i % 6]!)}`;
  }
  const g = 8 + (n - 232) * 10;
  return `#${hex(g)}${hex(g)}${hex(g)}`;
}

/** Apply SGR parameters to a style (returns a new style). */
export function applySgr(style: SegStyle, params: string): SegStyle {
  const s: SegStyle = { ...style };
  const p = params === '' ? [0] : params.split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === 0) {
      for (const k of Object.keys(s)) delete (s as Record<string, unknown>)[k];
    } else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 7) s.inverse = true;
    else if (c === 22) {
      delete s.bold;
      delete s.dim;
    } else if (c === 23) delete s.italic;
    else if (c === 24) delete s.underline;
    else if (c === 27) delete s.inverse;
    else if (c >= 30 && c <= 37) s.fg = BASIC[c - 30];
    else if (c === 39) delete s.fg;
    else if (c >= 40 && c <= 47) s.bg = BASIC[c - 40];
    else if (c === 49) delete s.bg;
    else if (c >= 90 && c <= 97) s.fg = BRIGHT[c - 90];
    else if (c >= 100 && c <= 107) s.bg = BRIGHT[c - 100];
    else if (c === 38 || c === 48) {
      let col: string | undefined;
      if (p[i + 1] === 5) {
        col = color256(p[i + 2]!);
        i += 2;
      } else if (p[i + 1] === 2) {
        const [r, g, b] = [p[i + 2]!, p[i + 3]!, p[i + 4]!].map((v) => Math.max(0, Math.min(255, v || 0)));
        col = `#${hex(r!)}${hex(g!)}${hex(b!)}`;
        i += 4;
      }
      if (col) {
        if (c === 38) s.fg = col;
        else s.bg = col;
      }
    }
    // anything else (blink, fonts, ...) is ignored
  }
  for (const k of Object.keys(s) as (keyof SegStyle)[]) if (s[k] === undefined) delete s[k];
  return s;
}

function sameStyle(a: SegStyle, b: SegStyle): boolean {
  const ka = Object.keys(a) as (keyof SegStyle)[];
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

const TAB = 8;

/**
 * Parse one message into lines of segments. `\n` starts a new line; in each
 * line a CR followed by more text discards what came before (progress bars).
 */
export function sanitizeLog(message: string): Segment[][] {
  const lines: Segment[][] = [];
  let cur: Segment[] = [];
  let col = 0;
  let style: SegStyle = {};
  let pendingCR = false;

  const emit = (text: string) => {
    if (text === '') return;
    if (pendingCR) {
      cur = [];
      col = 0;
      pendingCR = false;
    }
    const last = cur[cur.length - 1];
    if (last && sameStyle(last.style, style)) last.text += text;
    else cur.push({ text, style });
    col += stringWidth(text);
  };

  const s = message;
  let i = 0;
  let buf = '';
  const flush = () => {
    if (buf) emit(buf);
    buf = '';
  };
  while (i < s.length) {
    const ch = s[i]!;
    const code = ch.charCodeAt(0);
    if (ch === '\x1b' || code === 0x9b || code === 0x9d || code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) {
      flush();
      // normalise C1 introducers to their 7-bit forms
      let kind: string;
      let j: number;
      if (ch === '\x1b') {
        kind = s[i + 1] ?? '';
        j = i + 2;
      } else {
        kind = code === 0x9b ? '[' : code === 0x9d ? ']' : 'P';
        j = i + 1;
      }
      if (kind === '[') {
        // CSI: params 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e
        let k = j;
        while (k < s.length && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x3f) k++;
        const params = s.slice(j, k);
        while (k < s.length && s.charCodeAt(k) >= 0x20 && s.charCodeAt(k) <= 0x2f) k++;
        const inter = s.slice(j + params.length, k);
        const fin = s[k];
        if (fin !== undefined && s.charCodeAt(k) >= 0x40 && s.charCodeAt(k) <= 0x7e) {
          if (fin === 'm' && inter === '' && /^[\d;:]*$/.test(params)) style = applySgr(style, params);
          i = k + 1;
        } else {
          // malformed or truncated: drop the introducer, keep scanning after it
          i = k;
        }
      } else if (kind === ']' || kind === 'P' || kind === 'X' || kind === '^' || kind === '_') {
        // string sequences end at BEL, ST (ESC \) or C1 ST
        let k = j;
        while (k < s.length) {
          const c = s[k]!;
          if (c === '\x07' || c === '\x9c') {
            k++;
            break;
          }
          if (c === '\x1b' && s[k + 1] === '\\') {
            k += 2;
            break;
          }
          k++;
        }
        i = k;
      } else if (ch === '\x1b') {
        // ESC + intermediates + final (charset selection, DECSC, RIS, ...)
        let k = i + 1;
        while (k < s.length && s.charCodeAt(k) >= 0x20 && s.charCodeAt(k) <= 0x2f) k++;
        if (k < s.length && s.charCodeAt(k) >= 0x30 && s.charCodeAt(k) <= 0x7e) k++;
        i = k;
      } else {
        i = j;
      }
      continue;
    }
    if (ch === '\n') {
      flush();
      lines.push(cur);
      cur = [];
      col = 0;
      pendingCR = false;
      i++;
      continue;
    }
    if (ch === '\r') {
      flush();
      pendingCR = true;
      i++;
      continue;
    }
    if (ch === '\t') {
      flush();
      emit(' '.repeat(TAB - (col % TAB)));
      i++;
      continue;
    }
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code <= 0x9f)) {
      // BEL, NUL, BS and the other C0/C1 controls are dropped
      i++;
      continue;
    }
    buf += ch;
    i++;
  }
  flush();
  lines.push(cur);
  return lines;
}

/** Plain text of segments. */
export function segmentsText(segs: Segment[]): string {
  return segs.map((s) => s.text).join('');
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Wrap one line of segments into rows of at most `width` cells. Always returns >= 1 row. */
export function wrapSegments(segs: Segment[], width: number): Segment[][] {
  const w = Math.max(1, width);
  const rows: Segment[][] = [];
  let row: Segment[] = [];
  let used = 0;
  for (const seg of segs) {
    if (/^[\x20-\x7e]*$/.test(seg.text)) {
      // fast path: printable ASCII is one cell per character
      let t = seg.text;
      while (t.length) {
        if (used >= w) {
          rows.push(row);
          row = [];
          used = 0;
        }
        const take = t.slice(0, w - used);
        row.push({ text: take, style: seg.style });
        used += take.length;
        t = t.slice(take.length);
      }
      continue;
    }
    let piece = '';
    for (const { segment: g } of segmenter.segment(seg.text)) {
      const gw = stringWidth(g);
      if (used + gw > w && used > 0) {
        if (piece) row.push({ text: piece, style: seg.style });
        rows.push(row);
        row = [];
        piece = '';
        used = 0;
      }
      piece += g;
      used += gw;
    }
    if (piece) row.push({ text: piece, style: seg.style });
  }
  rows.push(row);
  return rows;
}
