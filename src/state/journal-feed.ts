/**
 * A live journal for the TUI: consumes the port's journal iterator, batches
 * incoming entries and flushes them into a bounded ring every `flushMs`, kept
 * in timestamp order (so pod members interleave by time). Listeners are told
 * once per flush, never once per line.
 */
import type { EnginePort, JournalEntry } from './engine-port.js';
import { Ring } from './ring.js';

export interface FeedEntry extends JournalEntry {
  /** unique, increasing id (for render caches) */
  id: number;
}

export interface FeedOptions {
  capacity?: number;
  flushMs?: number;
  lines?: number;
  follow?: boolean;
}

export class JournalFeed {
  readonly ring: Ring<FeedEntry>;
  /** bumps on every flush that changed the ring */
  version = 0;
  error: string | null = null;
  ended = false;
  private pending: JournalEntry[] = [];
  private timer: NodeJS.Timeout | null = null;
  private listeners = new Set<() => void>();
  private abort = new AbortController();
  private nextId = 1;
  private readonly flushMs: number;

  constructor(opts: FeedOptions = {}) {
    this.ring = new Ring(opts.capacity ?? 5000);
    this.flushMs = opts.flushMs ?? 75;
  }

  /** Start reading from the port. */
  start(port: EnginePort, names: string | string[], opts: FeedOptions = {}): this {
    const signal = this.abort.signal;
    const iter = port.journal(names, { follow: opts.follow ?? true, lines: opts.lines ?? 200, signal });
    void (async () => {
      try {
        for await (const e of iter) {
          if (signal.aborted) break;
          this.add(e);
        }
      } catch (err) {
        if (!signal.aborted) this.error = err instanceof Error ? err.message : String(err);
      } finally {
        this.ended = true;
        this.flush();
      }
    })();
    return this;
  }

  /** Queue an entry; flushed within flushMs. */
  add(e: JournalEntry): void {
    this.pending.push(e);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  /** Move pending entries into the ring now. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.pending;
    this.pending = [];
    for (const e of batch) this.insert({ ...e, id: this.nextId++ });
    this.version++;
    for (const l of this.listeners) l();
  }

  private insert(e: FeedEntry): void {
    const r = this.ring;
    r.push(e);
    // bubble back while older than its predecessor (rare; bounded by small skew)
    let i = r.length - 1;
    while (i > 0 && r.at(i - 1)!.ts > e.ts) {
      r.set(i, r.at(i - 1)!);
      r.set(i - 1, e);
      i--;
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.listeners.clear();
  }
}
