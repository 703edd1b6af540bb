/**
 * Tree copy (import-and-oci.md §2): lstat walk, never follows symlinks;
 * hardlinks kept by (dev, ino); devices/FIFOs/sockets via mknod; owner, mode
 * (chmod after chown so setuid survives), xattrs (not security.selinux),
 * times. Directory times are set after their contents.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { checkInterrupt } from '../errors.js';
import { mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../native/libc.js';
import { readXattrs, XattrWriter } from './xattrs.js';

const S_IFSOCK = 0o140000;

export interface CopyOptions {
  signal?: AbortSignal;
  onWarn?: (msg: string) => void;
  /** called every 1000 entries with the running count */
  onEntries?: (n: number) => void;
  /**
   * Source directories (as joined from `src`) whose contents are not copied,
   * e.g. proc/sysfs mount points: the empty directory is created, with a warning
   * naming the value (the fs type).
   */
  skipContents?: ReadonlyMap<string, string>;
}

function setTimes(path: string, st: fs.Stats): void {
  try {
    fs.lutimesSync(path, st.atimeMs / 1000, st.mtimeMs / 1000);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOTSUP') throw e;
  }
}

/**
 * Copies the contents of `src` into the existing directory `dst`, and the
 * metadata of `src` itself onto `dst`. Returns the number of entries copied.
 */
export function copyTree(src: string, dst: string, opts: CopyOptions = {}): number {
  const xw = new XattrWriter();
  const links = new Map<string, string>();
  let count = 0;

  const meta = (s: string, d: string, st: fs.Stats, isLink: boolean) => {
    fs.lchownSync(d, st.uid, st.gid);
    if (!isLink) fs.chmodSync(d, st.mode & 0o7777);
    xw.apply(d, readXattrs(s), isLink);
  };

  const walk = (s: string, d: string) => {
    for (const name of fs.readdirSync(s)) {
      checkInterrupt(opts.signal);
      const sp = join(s, name);
      const dp = join(d, name);
      const st = fs.lstatSync(sp);
      count++;
      if (count % 1000 === 0) opts.onEntries?.(count);
      if (st.isDirectory()) {
        fs.mkdirSync(dp, 0o700);
        meta(sp, dp, st, false);
        const skip = opts.skipContents?.get(sp);
        if (skip !== undefined) opts.onWarn?.(`not copying the contents of ${sp} (a ${skip} mount)`);
        else walk(sp, dp);
        setTimes(dp, st);
        continue;
      }
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          fs.linkSync(first, dp);
          continue;
        }
        fs.copyFileSync(sp, dp, fs.constants.COPYFILE_EXCL);
        if (st.nlink > 1) links.set(key, dp);
        meta(sp, dp, st, false);
        setTimes(dp, st);
        continue;
      }
      if (st.isSymbolicLink()) {
        fs.symlinkSync(fs.readlinkSync(sp), dp);
        meta(sp, dp, st, true);
        setTimes(dp, st);
        continue;
      }
      const kind = st.isCharacterDevice()
        ? S_IFCHR
        : st.isBlockDevice()
          ? S_IFBLK
          : st.isFIFO()
            ? S_IFIFO
            : st.isSocket()
              ? S_IFSOCK
              : undefined;
      if (kind === undefined) {
        opts.onWarn?.(`skipping ${sp}: unknown file type`);
        continue;
      }
      mknod(dp, kind | (st.mode & 0o7777), BigInt(st.rdev));
      meta(sp, dp, st, false);
      setTimes(dp, st);
    }
  };

  const rootSt = fs.lstatSync(src);
  meta(src, dst, rootSt, false);
  walk(src, dst);
  setTimes(dst, rootSt);
  return count;
}
