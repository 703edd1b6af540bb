/**
 * Compression detection by magic bytes (import-and-oci.md §1.1, never by file
 * name) and streaming decompression: gzip in-process (zlib), bzip2/xz/zstd
 * through `TOOL -dc` child processes reading the file themselves.
 *
 * Note: the child is started with node:child_process because src/native/run.ts
 * only offers buffered runs; a streaming variant there would be the cleaner home.
 */
import { spawn } from 'node:child_process';
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { SdmeError } from '../errors.js';
import { which } from '../../native/run.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

export function detectCompression(head: Buffer): Compression {
  const starts = (bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b])) return 'gzip';
  if (starts([0x42, 0x5a, 0x68])) return 'bzip2';
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  return 'none';
}

export function readHead(path: string, n = 1024): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const TOOLS: Record<'bzip2' | 'xz' | 'zstd', string> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

/** Decompressed content of the file as a stream of chunks. Errors of the tool become SdmeError. */
export async function* decompressFile(path: string, kind: Compression, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (kind === 'none') {
    yield* createReadStream(path, { highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>;
    return;
  }
  if (kind === 'gzip') {
    const src = createReadStream(path, { highWaterMark: 1 << 20, signal });
    const gunzip = createGunzip();
    src.on('error', (e) => gunzip.destroy(e));
    src.pipe(gunzip);
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code?.startsWith('Z_')) {
        throw new SdmeError(`gzip decompression failed: ${(e as Error).message}`);
      }
      throw e;
    } finally {
      src.destroy();
      gunzip.destroy();
    }
    return;
  }
  const tool = TOOLS[kind];
  const bin = which(tool);
  if (!bin) throw new SdmeError(`cannot decompress ${kind} archive: '${tool}' is not installed`);
  const child = spawn(bin, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, sig) => resolve({ code, sig }));
    child.on('error', () => resolve({ code: null, sig: null }));
  });
  let completed = false;
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    const { code, sig } = await exited;
    if (code !== 0) {
      throw new SdmeError(`${tool} decompression failed${sig ? ` (${sig})` : ''}: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`);
    }
    completed = true;
  } finally {
    if (!completed && child.exitCode === null) child.kill('SIGTERM');
  }
}
