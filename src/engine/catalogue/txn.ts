/**
 * Transactional staging (import-and-oci.md §4): work happens in
 * `PARENT/.NAME.KIND-txn-PID` and becomes visible with one rename. Leftovers
 * of dead processes are garbage-collected by PID.
 */
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { safeRemoveDir } from './safe-remove.js';

export type TxnKind = 'import' | 'remove' | 'build' | 'export' | 'download' | (string & {});

export interface TxnEntry {
  name: string;
  kind: string;
  pid: number;
}

/** Parse `.NAME.KIND-txn-PID`; undefined for anything else. */
export function parseTxnEntry(entry: string): TxnEntry | undefined {
  if (!entry.startsWith('.')) return undefined;
  const t = entry.lastIndexOf('-txn-');
  if (t < 0) return undefined;
  const pidText = entry.slice(t + 5);
  if (!/^\d+$/.test(pidText)) return undefined;
  const dot = entry.indexOf('.', 1);
  if (dot < 0 || dot > t) return undefined;
  return { name: entry.slice(1, dot), kind: entry.slice(dot + 1, t), pid: Number(pidText) };
}

export function txnEntryName(name: string, kind: string, pid = process.pid): string {
  return `.${name}.${kind}-txn-${pid}`;
}

export function pidAlive(pid: number): boolean {
  return pid > 0 && existsSync(`/proc/${pid}`);
}

async function removeEntry(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (st.isDirectory()) await safeRemoveDir(path);
  else await unlink(path);
}

/**
 * Remove every staging entry in dir whose PID is dead (only entries of `name`
 * when given). Failures are reported through note and skipped. Returns the count removed.
 */
export async function gcStale(dir: string, name?: string, opts: { note?: (msg: string) => void } = {}): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  let count = 0;
  for (const entry of entries.sort()) {
    const t = parseTxnEntry(entry);
    if (!t || (name !== undefined && t.name !== name) || pidAlive(t.pid)) continue;
    try {
      await removeEntry(join(dir, entry));
      count++;
    } catch (e) {
      opts.note?.(`warning: could not remove stale ${join(dir, entry)}: ${(e as Error).message}`);
    }
  }
  return count;
}

export interface TxnOptions {
  /** remove dead leftovers of this NAME in prepare() (config auto_fs_gc); default true */
  autoGc?: boolean;
  note?: (msg: string) => void;
  pid?: number;
}

export class Txn {
  readonly staging: string;
  private committed = false;

  constructor(
    readonly parentDir: string,
    readonly name: string,
    readonly kind: TxnKind,
    private readonly opts: TxnOptions = {},
  ) {
    this.staging = join(parentDir, txnEntryName(name, kind, opts.pid ?? process.pid));
  }

  /** GC stale entries of NAME, drop our own leftover, create the staging dir (unless mkdir: false). */
  async prepare({ mkdir: makeDir = true }: { mkdir?: boolean } = {}): Promise<string> {
    await mkdir(this.parentDir, { recursive: true });
    if (this.opts.autoGc ?? true) await gcStale(this.parentDir, this.name, { note: this.opts.note });
    await removeEntry(this.staging);
    if (makeDir) await mkdir(this.staging, { mode: 0o755 });
    return this.staging;
  }

  /** rename(staging, final); final defaults to PARENT/NAME. */
  async commit(finalPath: string = join(this.parentDir, this.name)): Promise<void> {
    await rename(this.staging, finalPath);
    this.committed = true;
  }

  /** Remove the staging entry (safely, never through mounts). No-op after commit. */
  async abort(): Promise<void> {
    if (this.committed) return;
    await removeEntry(this.staging);
  }
}
