import { closeSync, mkdirSync, mkdtempSync, openSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLONE_NEWUTS,
  LibcError,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  S_IFCHR,
  S_IFIFO,
  errnoName,
  flock,
  getuid,
  isWouldBlock,
  lgetxattr,
  llistxattr,
  lsetxattr,
  makedev,
  mknod,
  mount,
  mountId,
  MS_BIND,
  setns,
  umount2,
  unshare,
} from '../../src/native/libc.js';
import { readMountinfo } from '../../src/native/mountinfo.js';

const dir = mkdtempSync(join(tmpdir(), 'sdme-libc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('libc errno names', () => {
  it('maps numbers to names, EAGAIN preferred over EWOULDBLOCK', () => {
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(99999)).toBe('E99999');
  });
});

describe('flock', () => {
  it('exclusive conflicts across open file descriptions with EAGAIN; shared locks coexist', () => {
    const p = join(dir, 'f.lock');
    writeFileSync(p, '');
    const a = openSync(p, 'r+');
    const b = openSync(p, 'r+');
    try {
      flock(a, LOCK_EX | LOCK_NB);
      let err: unknown;
      try {
        flock(b, LOCK_EX | LOCK_NB);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LibcError);
      expect((err as LibcError).code).toBe('EAGAIN');
      expect(isWouldBlock(err)).toBe(true);
      expect(() => flock(b, LOCK_SH | LOCK_NB)).toThrow(/EAGAIN/);
      flock(a, LOCK_UN);
      flock(a, LOCK_SH | LOCK_NB);
      flock(b, LOCK_SH | LOCK_NB); // two readers are fine
      expect(() => flock(a, LOCK_EX | LOCK_NB)).toThrow(LibcError);
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('bad fd gives EBADF', () => {
    expect(() => flock(987654, LOCK_EX)).toThrow(/flock: EBADF/);
  });
});

describe('xattrs', () => {
  it('set, get, list, missing attribute is null', () => {
    const p = join(dir, 'x');
    writeFileSync(p, 'data');
    lsetxattr(p, 'trusted.overlay.opaque', 'y');
    lsetxattr(p, 'user.sdme.test', Buffer.from([0, 1, 2, 255]));
    expect(lgetxattr(p, 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect([...lgetxattr(p, 'user.sdme.test')!]).toEqual([0, 1, 2, 255]);
    expect(lgetxattr(p, 'user.absent')).toBeNull();
    expect(llistxattr(p).sort()).toEqual(['trusted.overlay.opaque', 'user.sdme.test']);
  });

  it('errors carry the errno name and path', () => {
    expect(() => lgetxattr(join(dir, 'nope'), 'user.a')).toThrow(/lgetxattr .*nope: ENOENT/);
  });
});

describe('mknod', () => {
  it('creates a fifo and a char device with the right rdev', () => {
    const fifo = join(dir, 'fifo');
    mknod(fifo, S_IFIFO | 0o600);
    expect(statSync(fifo).isFIFO()).toBe(true);
    const nul = join(dir, 'null');
    mknod(nul, S_IFCHR | 0o666, makedev(1, 3));
    const st = statSync(nul);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(statSync('/dev/null').rdev);
    expect(() => mknod(fifo, S_IFIFO | 0o600)).toThrow(/EEXIST/);
  });
});

describe('mount / umount2 (root)', () => {
  it('mounts a tmpfs and unmounts it', () => {
    const mp = join(dir, 'mnt');
    mkdirSync(mp);
    mount('tmpfs', mp, 'tmpfs', 0, 'size=1m,mode=0700');
    try {
      const e = readMountinfo().find((m) => m.mountPoint === mp);
      expect(e?.fsType).toBe('tmpfs');
    } finally {
      umount2(mp);
    }
    expect(readMountinfo().some((m) => m.mountPoint === mp)).toBe(false);
    expect(() => umount2(mp)).toThrow(/umount2 .*: EINVAL/);
    expect(() => mount('tmpfs', join(dir, 'missing'), 'tmpfs', 0)).toThrow(/ENOENT/);
  });
});

describe('unshare / setns / getuid', () => {
  it('getuid is 0 here (root)', () => {
    expect(getuid()).toBe(process.getuid!());
  });

  it('unshare(CLONE_NEWUTS) moves this thread, setns returns to the original', () => {
    const orig = readlinkSync('/proc/thread-self/ns/uts');
    const fd = openSync('/proc/thread-self/ns/uts', 'r');
    try {
      unshare(CLONE_NEWUTS);
      expect(readlinkSync('/proc/thread-self/ns/uts')).not.toBe(orig);
      setns(fd, CLONE_NEWUTS);
      expect(readlinkSync('/proc/thread-self/ns/uts')).toBe(orig);
    } finally {
      closeSync(fd);
    }
    expect(() => setns(-1, 0)).toThrow(/setns: EBADF/);
  });
});

describe('mountId (statx)', () => {
  it('matches mountinfo and differs across a same-filesystem bind mount', () => {
    const src = join(dir, 'bsrc');
    const dst = join(dir, 'bdst');
    mkdirSync(src);
    mkdirSync(dst);
    const before = mountId(dst);
    expect(mountId(src)).toBe(before);
    mount(src, dst, null, MS_BIND);
    try {
      const after = mountId(dst);
      expect(after).not.toBe(before);
      const e = readMountinfo().find((m) => m.mountPoint === dst);
      expect(BigInt(e!.mountId)).toBe(after);
    } finally {
      umount2(dst);
    }
    expect(() => mountId(join(dir, 'nope'))).toThrow(/statx .*nope: ENOENT/);
  });
});
