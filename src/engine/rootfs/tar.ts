/**
 * Confined tar extraction (import-and-oci.md §1.2, cases/tar-link-escapes.md).
 *
 * Entries are applied strictly in archive order, synchronously. Rules:
 * - member names: leading `/` stripped, `.` dropped, any `..` rejects the archive;
 * - every parent component is checked with lstat: a symlink there rejects the
 *   archive (no write ever goes through a link), missing parents are created;
 * - the final component is unlinked first and created with O_EXCL|O_NOFOLLOW,
 *   so an existing (hard)link is replaced, never written through;
 * - hardlink targets follow the same name rules and must already exist inside
 *   the root as a non-directory;
 * - device nodes/FIFOs via mknod, xattrs from PAX SCHILY.xattr.* (except
 *   security.selinux), numeric owners, full mode incl. setuid (chmod after
 *   chown), mtimes (directories at the end, deepest first).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { SdmeError, checkInterrupt } from '../errors.js';
import { makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../native/libc.js';
import { TarReader, type TarEntry, type TarSink } from './tar-reader.js';
import { XattrWriter } from './xattrs.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;

/** Splits a member name into safe components; throws on `..`. Empty array = the root itself. */
export function memberComponents(name: string, what = 'entry'): string[] {
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) {
    throw new SdmeError(`refusing to extract archive: ${what} '${name}' contains '..'`);
  }
  return parts;
}

function lstatOrUndef(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export interface ExtractStats {
  entries: number;
  bytes: number;
  warnings: string[];
}

export class SafeExtractor implements TarSink {
  private readonly xattrs = new XattrWriter();
  private fd: number | undefined;
  private current: { entry: TarEntry; path: string } | undefined;
  private readonly dirTimes: { path: string; ino: number; atime: number; mtime: number }[] = [];
  readonly stats: ExtractStats = { entries: 0, bytes: 0, warnings: [] };

  constructor(
    private readonly root: string,
    private readonly opts: { signal?: AbortSignal; onWarn?: (msg: string) => void } = {},
  ) {}

  warn(msg: string): void {
    this.stats.warnings.push(msg);
    this.opts.onWarn?.(msg);
  }

  /** Walks parent components from the root, creating missing dirs; refuses symlinks. */
  private parentDir(comps: string[], entryName: string, create: boolean, missing?: string): string {
    let cur = this.root;
    for (let i = 0; i < comps.length - 1; i++) {
      const next = join(cur, comps[i]!);
      const st = lstatOrUndef(next);
      if (st === undefined) {
        if (!create) throw new SdmeError(missing ?? `refusing to extract archive: '${entryName}' refers to a missing path`);
        fs.mkdirSync(next, 0o755);
      } else if (st.isSymbolicLink()) {
        throw new SdmeError(
          `refusing to extract archive: '${entryName}' would be written through the symbolic link '${comps.slice(0, i + 1).join('/')}'`,
        );
      } else if (!st.isDirectory()) {
        throw new SdmeError(`refusing to extract archive: '${comps.slice(0, i + 1).join('/')}' in '${entryName}' is not a directory`);
      }
      cur = next;
    }
    return cur;
  }

  /** Removes whatever is at path so a fresh object can be created there. */
  private clear(path: string, name: string, keepDir: boolean): fs.Stats | undefined {
    const st = lstatOrUndef(path);
    if (st === undefined) return undefined;
    if (st.isDirectory()) {
      if (keepDir) return st;
      try {
        fs.rmdirSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOTEMPTY') {
          throw new SdmeError(`refusing to extract archive: '${name}' would replace a non-empty directory`);
        }
        throw e;
      }
      return undefined;
    }
    fs.unlinkSync(path);
    return undefined;
  }

  begin(e: TarEntry): void {
    checkInterrupt(this.opts.signal);
    this.stats.entries++;
    const comps = memberComponents(e.path);
    if (comps.length === 0) {
      // `./` names the root itself: only metadata of a directory entry applies
      if (e.type === 'dir') this.meta(this.root, e, false);
      else throw new SdmeError(`refusing to extract archive: entry '${e.path}' would replace the root directory`);
      return;
    }
    const dir = this.parentDir(comps, e.path, true);
    const path = join(dir, comps[comps.length - 1]!);
    switch (e.type) {
      case 'dir': {
        const st = this.clear(path, e.path, true);
        if (st === undefined) fs.mkdirSync(path, 0o700);
        this.meta(path, e, false);
        return;
      }
      case 'file': {
        this.clear(path, e.path, false);
        this.fd = fs.openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        this.current = { entry: e, path };
        if (e.size === 0) return; // reader calls end() right away
        return;
      }
      case 'symlink': {
        this.clear(path, e.path, false);
        fs.symlinkSync(e.linkpath, path);
        this.meta(path, e, true);
        return;
      }
      case 'hardlink': {
        const tcomps = memberComponents(e.linkpath, 'hard link target');
        if (tcomps.length === 0) throw new SdmeError(`refusing to extract archive: hard link '${e.path}' points at the root`);
        const notThere = `refusing to extract archive: hard link '${e.path}' points at '${e.linkpath}', which is not in the archive`;
        const tdir = this.parentDir(tcomps, e.linkpath, false, notThere);
        const target = join(tdir, tcomps[tcomps.length - 1]!);
        const tst = lstatOrUndef(target);
        if (tst === undefined) throw new SdmeError(notThere);
        if (tst.isDirectory()) throw new SdmeError(`refusing to extract archive: hard link '${e.path}' points at a directory`);
        if (target === path) return;
        this.clear(path, e.path, false);
        fs.linkSync(target, path); // link(2) does not follow a symlink target
        return;
      }
      case 'chardev':
      case 'blockdev':
      case 'fifo': {
        this.clear(path, e.path, false);
        const kind = e.type === 'chardev' ? S_IFCHR : e.type === 'blockdev' ? S_IFBLK : S_IFIFO;
        const dev = e.type === 'fifo' ? 0n : makedev(e.devmajor, e.devminor);
        mknod(path, kind | (e.mode & 0o7777), dev);
        this.meta(path, e, false);
        return;
      }
    }
  }

  data(chunk: Buffer): void {
    if (this.fd === undefined) return;
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off);
    this.stats.bytes += chunk.length;
  }

  end(): void {
    const fd = this.fd;
    const cur = this.current;
    this.fd = undefined;
    this.current = undefined;
    if (fd === undefined || cur === undefined) return;
    try {
      const e = cur.entry;
      fs.fchownSync(fd, e.uid, e.gid);
      fs.fchmodSync(fd, e.mode & 0o7777); // after chown, which clears setuid/setgid
      this.xattrs.apply(cur.path, e.xattrs, false);
      fs.futimesSync(fd, e.atime ?? e.mtime, e.mtime);
    } finally {
      fs.closeSync(fd);
    }
  }

  private meta(path: string, e: TarEntry, isSymlink: boolean): void {
    fs.lchownSync(path, e.uid, e.gid);
    if (!isSymlink) fs.chmodSync(path, e.mode & 0o7777);
    this.xattrs.apply(path, e.xattrs, isSymlink);
    if (e.type === 'dir') {
      const st = fs.lstatSync(path);
      this.dirTimes.push({ path, ino: st.ino, atime: e.atime ?? e.mtime, mtime: e.mtime });
    } else {
      try {
        fs.lutimesSync(path, e.atime ?? e.mtime, e.mtime);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOTSUP') throw err;
      }
    }
  }

  /** Closes any open file; sets directory times deepest-first (only on dirs still in place). */
  finish(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const d = this.dirTimes[i]!;
      const st = lstatOrUndef(d.path);
      if (st?.isDirectory() && st.ino === d.ino) fs.lutimesSync(d.path, d.atime, d.mtime);
    }
  }

  /** Releases the open fd after a failure (no time fix-ups). */
  close(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = undefined;
    }
  }
}

/**
 * Extracts a decompressed tar stream into `root` (an existing, empty staging dir).
 * `maxBytes` caps the decompressed input (0 = unlimited).
 */
export async function extractTarStream(
  chunks: AsyncIterable<Buffer>,
  root: string,
  opts: { maxBytes?: number; signal?: AbortSignal; onWarn?: (msg: string) => void; onBytes?: (n: number) => void } = {},
): Promise<ExtractStats> {
  const sink = new SafeExtractor(root, opts);
  const reader = new TarReader(sink);
  let total = 0;
  const max = opts.maxBytes ?? 0;
  try {
    for await (const chunk of chunks) {
      checkInterrupt(opts.signal);
      total += chunk.length;
      if (max > 0 && total > max) {
        throw new SdmeError(`decompressed archive exceeds max_download_size (${max} bytes)`);
      }
      if (!reader.done) reader.write(chunk);
      opts.onBytes?.(total);
    }
    reader.end();
    sink.finish();
  } catch (e) {
    sink.close();
    throw e;
  }
  return sink.stats;
}
