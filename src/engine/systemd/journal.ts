/**
 * Journal reader: `journalctl -o json` streamed line by line. MESSAGE (and any
 * other field) may be a string, an array of byte values (control characters or
 * invalid UTF-8) or null (over 4096 bytes without --all); all decode leniently.
 */
import { spawnStream } from '../../native/run.js';
import { SdmeError } from '../errors.js';

export interface JournalEntry {
  /** __REALTIME_TIMESTAMP, microseconds since the epoch (0 if absent) */
  ts: number;
  message: string;
  unit?: string;
  priority?: number;
  pid?: number;
  identifier?: string;
  cursor?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** string | byte array | null -> string; invalid UTF-8 becomes U+FFFD, null becomes ''. */
export function decodeJournalField(v: string | number[] | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return utf8.decode(Uint8Array.from(v, (b) => b & 0xff));
  return String(v);
}

/** Alias kept for the name used in docs/internals.md. */
export const decodeJournalMessage = decodeJournalField;

function optField(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  // repeated fields arrive as an array of values; a byte array is an array of numbers
  if (Array.isArray(v) && v.length > 0 && typeof v[0] !== 'number') return optField(v[0]);
  return decodeJournalField(v as string | number[]);
}

function optInt(v: unknown): number | undefined {
  const s = optField(v);
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
}

/** One `journalctl -o json` line -> entry; undefined for blank or unparsable lines. */
export function parseJournalLine(line: string): JournalEntry | undefined {
  const t = line.trim();
  if (t === '') return undefined;
  let o: unknown;
  try {
    o = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const r = o as Record<string, unknown>;
  const e: JournalEntry = {
    ts: optInt(r.__REALTIME_TIMESTAMP) ?? 0,
    message: optField(r.MESSAGE) ?? '',
  };
  const unit = optField(r._SYSTEMD_UNIT) ?? optField(r.UNIT);
  if (unit !== undefined) e.unit = unit;
  const prio = optInt(r.PRIORITY);
  if (prio !== undefined) e.priority = prio;
  const pid = optInt(r._PID);
  if (pid !== undefined) e.pid = pid;
  const ident = optField(r.SYSLOG_IDENTIFIER);
  if (ident !== undefined) e.identifier = ident;
  const cursor = optField(r.__CURSOR);
  if (cursor !== undefined) e.cursor = cursor;
  return e;
}

export interface JournalQuery {
  unit?: string;
  /** -M MACHINE: the container's own journal */
  machine?: string;
  /** -n N */
  lines?: number;
  follow?: boolean;
  /** --since, passed verbatim (e.g. "-10min", "2024-01-01 10:00") */
  since?: string;
  signal?: AbortSignal;
  /** override the binary (tests) */
  journalctl?: string;
}

/** argv for journalctl; pure. */
export function journalArgs(q: JournalQuery): string[] {
  const a = ['-o', 'json', '--all', '--no-pager'];
  if (q.unit !== undefined) a.push('-u', q.unit);
  else if (q.machine !== undefined) a.push('-M', q.machine);
  if (q.lines !== undefined) {
    if (!Number.isInteger(q.lines) || q.lines < 0) throw new SdmeError(`invalid line count: ${q.lines}`);
    a.push('-n', String(q.lines));
  }
  if (q.since !== undefined) a.push('--since', q.since);
  if (q.follow) a.push('-f');
  return a;
}

/**
 * Stream journal entries. Ends quietly when `signal` aborts or the consumer
 * stops iterating (the child is killed); throws SdmeError if journalctl fails.
 */
export async function* readJournal(q: JournalQuery): AsyncGenerator<JournalEntry> {
  const args = journalArgs(q);
  if (q.signal?.aborted) return;
  const h = spawnStream(q.journalctl ?? 'journalctl', args, { signal: q.signal });
  let finished = false;
  try {
    for await (const line of h.lines()) {
      const e = parseJournalLine(line);
      if (e) yield e;
    }
    finished = true;
  } finally {
    if (!finished) {
      h.kill();
      await h.done;
    }
  }
  const r = await h.done;
  if (r.canceled || q.signal?.aborted) return;
  if (r.exitCode !== 0) {
    const msg = r.stderr.trim().split('\n')[0] || `exit code ${r.exitCode}`;
    throw new SdmeError(`journalctl failed: ${msg}`);
  }
}
