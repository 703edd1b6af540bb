/**
 * KEY=VALUE files (state files, pod state, rootfs .meta), layout-and-state.md §3:
 * lines trimmed, blank lines ignored, split on the first `=`, last duplicate wins;
 * written sorted by key in byte order (like Rust's BTreeMap), `KEY=VALUE\n` each.
 */
import { open, rename, chmod, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SdmeError } from '../errors.js';

export type KV = Record<string, string>;

/** Parse KEY=VALUE text. `source` (a file name) is used in error messages. */
export function parseKV(text: string, source = 'input'): KV {
  const out: KV = Object.create(null) as KV;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new SdmeError(`invalid line ${i + 1} in ${source}: expected KEY=VALUE, got '${line}'`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Byte-order comparison of two strings (UTF-8), as Rust orders String keys. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Serialize sorted by key; refuses keys/values that would not parse back. */
export function serializeKV(record: KV): string {
  const keys = Object.keys(record).sort(compareBytes);
  let out = '';
  for (const k of keys) {
    const v = record[k]!;
    if (k === '' || k.includes('=') || /[\r\n]/.test(k) || k !== k.trim()) {
      throw new SdmeError(`invalid state key '${k}'`);
    }
    if (/[\r\n]/.test(v)) throw new SdmeError(`value for ${k} must not contain a newline`);
    out += `${k}=${v}\n`;
  }
  return out;
}

let tmpCounter = 0;

/**
 * Write data to `dir/.NAME.PID-N.tmp`, fsync, set mode, rename over path, fsync
 * the dir. Readers see either the old or the new file, never a partial one.
 * (Upstream uses `.NAME.tmp`; the PID/counter suffix keeps two concurrent
 * writers from truncating each other's temp file.)
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}-${tmpCounter++}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await chmod(path, mode);
  try {
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* directory fsync is best effort */
  }
}
