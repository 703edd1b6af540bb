/**
 * Thin libc bindings through koffi for the syscalls Node does not expose:
 * flock, l*xattr, mknod, mount/umount2, setns, unshare, getuid.
 * Every failure throws a LibcError carrying the errno name in `code`
 * (same shape as Node's ErrnoException, so `e.code === 'EAGAIN'` works).
 */
import koffi from 'koffi';
import { constants as osConstants } from 'node:os';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export class LibcError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path?: string;
  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(`${syscall}${path === undefined ? '' : ` ${path}`}: ${code} (${strerror(errno)})`);
    this.name = 'LibcError';
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = path;
  }
}

const errnoNames = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.errno)) {
  // first name wins: EAGAIN before EWOULDBLOCK, EDEADLK before EDEADLOCK
  if (!errnoNames.has(num)) errnoNames.set(num, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** True for EAGAIN/EWOULDBLOCK (same number on Linux). */
export function isWouldBlock(e: unknown): boolean {
  return e instanceof LibcError && e.errno === osConstants.errno.EAGAIN;
}

// Bound lazily so importing this module never fails on a machine without libc.so.6.
interface Fns {
  flock: (fd: number, op: number) => number;
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  llistxattr: (path: string, list: Buffer | null, size: number) => number;
  mknod: (path: string, mode: number, dev: bigint | number) => number;
  mount: (src: string | null, target: string, fstype: string | null, flags: number, data: string | null) => number;
  umount2: (target: string, flags: number) => number;
  setns: (fd: number, nstype: number) => number;
  unshare: (flags: number) => number;
  getuid: () => number;
  statx: (dirfd: number, path: string, flags: number, mask: number, buf: Buffer) => number;
  strerror: (errnum: number) => string;
}
let fns: Fns | undefined;

function bind(): Fns {
  if (fns) return fns;
  const lib = koffi.load('libc.so.6');
  fns = {
    flock: lib.func('int flock(int fd, int op)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, void *list, size_t size)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    mount: lib.func(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
    ),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    unshare: lib.func('int unshare(int flags)'),
    getuid: lib.func('uint32_t getuid()'),
    statx: lib.func('int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)'),
    strerror: lib.func('const char *strerror(int errnum)'),
  } as Fns;
  return fns;
}

function strerror(errno: number): string {
  try {
    return bind().strerror(errno);
  } catch {
    return 'unknown error';
  }
}

/** Calls f; on a -1 result reads errno and throws LibcError. */
function check(syscall: string, rc: number, path?: string): number {
  if (rc === -1) throw new LibcError(syscall, koffi.errno(), path);
  return rc;
}

/** flock(2). With LOCK_NB a held lock throws LibcError code EAGAIN (see isWouldBlock). */
export function flock(fd: number, op: number): void {
  const f = bind();
  for (;;) {
    try {
      check('flock', f.flock(fd, op));
      return;
    } catch (e) {
      if (e instanceof LibcError && e.code === 'EINTR') continue;
      throw e;
    }
  }
}

export function lsetxattr(path: string, name: string, value: Buffer | string, flags = 0): void {
  const buf = typeof value === 'string' ? Buffer.from(value) : value;
  check('lsetxattr', bind().lsetxattr(path, name, buf, buf.length, flags), path);
}

/** Value of an extended attribute, or null when it is not set (ENODATA). */
export function lgetxattr(path: string, name: string): Buffer | null {
  const f = bind();
  for (let attempt = 0; attempt < 4; attempt++) {
    const size = f.lgetxattr(path, name, null, 0);
    if (size === -1) {
      const errno = koffi.errno();
      if (errnoName(errno) === 'ENODATA') return null;
      throw new LibcError('lgetxattr', errno, path);
    }
    const buf = Buffer.alloc(size);
    const n = f.lgetxattr(path, name, buf, size);
    if (n === -1) {
      const errno = koffi.errno();
      if (errnoName(errno) === 'ERANGE') continue; // grew in between
      if (errnoName(errno) === 'ENODATA') return null;
      throw new LibcError('lgetxattr', errno, path);
    }
    return buf.subarray(0, n);
  }
  throw new LibcError('lgetxattr', osConstants.errno.ERANGE, path);
}

/** Names of all extended attributes of path (not following a final symlink). */
export function llistxattr(path: string): string[] {
  const f = bind();
  for (let attempt = 0; attempt < 4; attempt++) {
    const size = check('llistxattr', f.llistxattr(path, null, 0), path);
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const n = f.llistxattr(path, buf, size);
    if (n === -1) {
      const errno = koffi.errno();
      if (errnoName(errno) === 'ERANGE') continue;
      throw new LibcError('llistxattr', errno, path);
    }
    return buf
      .subarray(0, n)
      .toString('utf8')
      .split('\0')
      .filter((s) => s.length > 0);
  }
  throw new LibcError('llistxattr', osConstants.errno.ERANGE, path);
}

/** Linux dev_t encoding (glibc makedev). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function mknod(path: string, mode: number, dev: bigint | number = 0): void {
  check('mknod', bind().mknod(path, mode, BigInt(dev)), path);
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  check('mount', bind().mount(source, target, fstype, flags, data), target);
}

export function umount2(target: string, flags = 0): void {
  check('umount2', bind().umount2(target, flags), target);
}

/** setns(2). Note: Node is multi-threaded; only namespaces that allow it per-thread behave as expected. */
export function setns(fd: number, nstype = 0): void {
  check('setns', bind().setns(fd, nstype));
}

export function unshare(flags: number): void {
  check('unshare', bind().unshare(flags));
}

export function getuid(): number {
  return bind().getuid();
}

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_MNT_ID = 0x1000;
const STX_MNT_ID_OFFSET = 0x90;
const STX_MASK_OFFSET = 0;

/**
 * Mount ID of the mount containing path (statx STATX_MNT_ID, final symlink not
 * followed). Unlike st_dev it also tells apart bind mounts of the same filesystem.
 */
export function mountId(path: string): bigint {
  const buf = Buffer.alloc(256);
  check('statx', bind().statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, buf), path);
  if ((buf.readUInt32LE(STX_MASK_OFFSET) & STATX_MNT_ID) === 0) {
    throw new LibcError('statx', osConstants.errno.ENOSYS, path);
  }
  return buf.readBigUInt64LE(STX_MNT_ID_OFFSET);
}
