/**
 * Streaming tar reader: ustar/GNU/PAX headers decoded with node-tar's
 * `Header`, PAX records parsed here byte-exactly (node-tar drops
 * `SCHILY.xattr.*` and decodes values as UTF-8, which breaks binary xattrs
 * such as security.capability). Entries are handed to a synchronous sink in
 * archive order; all sink work happens inside `write()`, so nothing can
 * reorder entries.
 */
import { Header } from 'tar';
import { SdmeError } from '../errors.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo';

export interface TarEntry {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds, may be fractional (PAX) */
  mtime: number;
  atime?: number;
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.NAME values, raw bytes */
  xattrs: Map<string, Buffer>;
}

export interface TarSink {
  begin(entry: TarEntry): void;
  data(chunk: Buffer): void;
  end(): void;
  /** entry types we skip (volume labels, unknown vendor types) */
  warn(msg: string): void;
}

const BLOCK = 512;
const MAX_META = 16 * 1024 * 1024;

type PaxRecords = Map<string, Buffer>;

/** Parses PAX extended header records (`LEN key=value\n`), binary-safe. */
export function parsePax(buf: Buffer): PaxRecords {
  const out: PaxRecords = new Map();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break;
    const sp = buf.indexOf(0x20, pos);
    if (sp < 0) throw new SdmeError('corrupt tar archive: bad PAX header record');
    const len = Number.parseInt(buf.subarray(pos, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= sp - pos || pos + len > buf.length) {
      throw new SdmeError('corrupt tar archive: bad PAX header record length');
    }
    const rec = buf.subarray(sp + 1, pos + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'dir',
  '6': 'fifo',
  D: 'dir',
};

export class TarReader {
  private buf: Buffer = Buffer.alloc(0);
  /** bytes of entry data still to pass through, then padding to skip */
  private remaining = 0;
  private padding = 0;
  private meta: { key: string; parts: Buffer[]; size: number } | undefined;
  private inEntry = false;
  private global: PaxRecords = new Map();
  private local: PaxRecords | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeroBlocks = 0;
  private seenHeader = false;
  done = false;

  constructor(private readonly sink: TarSink) {}

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.done) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        if (this.meta) {
          this.meta.parts.push(Buffer.from(part));
        } else if (this.inEntry) {
          this.sink.data(part);
        }
        this.remaining -= n;
        off += n;
        if (this.remaining === 0) this.finishData();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - off);
        this.padding -= n;
        off += n;
        continue;
      }
      // header: gather 512 bytes
      const need = BLOCK - this.buf.length;
      const n = Math.min(need, chunk.length - off);
      this.buf = this.buf.length === 0 ? Buffer.from(chunk.subarray(off, off + n)) : Buffer.concat([this.buf, chunk.subarray(off, off + n)]);
      off += n;
      if (this.buf.length === BLOCK) {
        const block = this.buf;
        this.buf = Buffer.alloc(0);
        this.header(block);
      }
    }
  }

  /** Call at end of input; throws if the archive was cut short. */
  end(): void {
    if (this.done) return;
    if (this.remaining > 0 || this.buf.length > 0 || this.inEntry || this.meta) {
      throw new SdmeError('truncated tar archive (unexpected end of data)');
    }
    if (!this.seenHeader) throw new SdmeError('not a tar archive (empty input)');
    // a missing end-of-archive marker is tolerated (GNU tar does too)
    this.done = true;
  }

  private finishData(): void {
    this.padding = (BLOCK - (this.metaOrEntrySize % BLOCK)) % BLOCK;
    if (this.meta) {
      const body = Buffer.concat(this.meta.parts);
      const key = this.meta.key;
      this.meta = undefined;
      if (key === 'x') this.local = new Map([...(this.local ?? []), ...parsePax(body)]);
      else if (key === 'g') this.global = new Map([...this.global, ...parsePax(body)]);
      else if (key === 'L') this.longName = cstr(body);
      else if (key === 'K') this.longLink = cstr(body);
    } else if (this.inEntry) {
      this.inEntry = false;
      this.sink.end();
    }
  }

  private metaOrEntrySize = 0;

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.done = true;
      return;
    }
    this.zeroBlocks = 0;
    const notTar = (why: string) =>
      new SdmeError(this.seenHeader ? `corrupt tar archive (${why})` : `not a tar archive (${why})`);
    let h: Header;
    try {
      // node-tar throws plain Errors on undecodable numeric fields (base-256 garbage)
      h = new Header(block);
    } catch (e) {
      throw notTar(`undecodable header: ${(e as Error).message}`);
    }
    if (!h.cksumValid) throw notTar(this.seenHeader ? 'bad header checksum' : 'unrecognised format or bad checksum');
    this.seenHeader = true;
    const key = h.typeKey as string;
    let size = h.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw notTar(`invalid entry size ${String(h.size)}`);
    if (key === 'x' || key === 'g' || key === 'L' || key === 'K') {
      if (size > MAX_META) throw new SdmeError('tar archive has an oversized metadata header');
      this.metaOrEntrySize = size;
      this.meta = { key, parts: [], size };
      this.remaining = size;
      if (size === 0) this.finishData();
      return;
    }
    if (key === 'S') throw new SdmeError(`tar entry '${h.path ?? ''}': GNU sparse files are not supported`);
    const pax = new Map([...this.global, ...(this.local ?? [])]);
    this.local = undefined;
    const paxStr = (k: string) => pax.get(k)?.toString('utf8');
    const paxNum = (k: string) => {
      const v = paxStr(k);
      if (v === undefined) return undefined;
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    };
    if ([...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) {
      throw new SdmeError(`tar entry '${h.path ?? ''}': GNU sparse files are not supported`);
    }
    const type = TYPES[key];
    const path = paxStr('path') ?? this.longName ?? h.path ?? '';
    const linkpath = paxStr('linkpath') ?? this.longLink ?? h.linkpath ?? '';
    this.longName = undefined;
    this.longLink = undefined;
    const paxSize = paxNum('size');
    if (paxSize !== undefined) {
      if (!Number.isSafeInteger(paxSize) || paxSize < 0) throw notTar(`invalid PAX size for '${path}'`);
      size = paxSize;
    }
    // hardlinks/symlinks/devices/dirs carry no data except odd writers; skip it
    this.metaOrEntrySize = size;
    this.remaining = size;
    if (type === undefined) {
      this.sink.warn(`skipping tar entry '${path}' of unsupported type '${key}'`);
      if (size === 0) this.finishData();
      return;
    }
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    const entry: TarEntry = {
      path,
      type,
      mode: (h.mode ?? 0o644) & 0o7777,
      uid: paxNum('uid') ?? h.uid ?? 0,
      gid: paxNum('gid') ?? h.gid ?? 0,
      size: type === 'file' ? size : 0,
      mtime: paxNum('mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0),
      atime: paxNum('atime'),
      linkpath,
      devmajor: h.devmaj ?? 0,
      devminor: h.devmin ?? 0,
      xattrs,
    };
    this.sink.begin(entry);
    if (type === 'file') {
      this.inEntry = true;
      if (size === 0) this.finishData();
    } else {
      // data of non-file entries (GNU dumpdir listings) is ignored
      this.inEntry = false;
      if (size === 0) this.finishData();
    }
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return (z < 0 ? b : b.subarray(0, z)).toString('utf8');
}
