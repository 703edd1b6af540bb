import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { SdmeError } from '../../src/engine/errors.js';
import { join } from 'node:path';
import { makeTar, type TestCompression } from './helpers/mktar.js';
import { extractTarStream, memberComponents } from '../../src/engine/rootfs/tar.js';
import { decompressFile, detectCompression, readHead } from '../../src/engine/rootfs/compression.js';
import { lgetxattr } from '../../src/native/libc.js';
import { parsePax } from '../../src/engine/rootfs/tar-reader.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdme-rootfs-tar-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function extract(archive: string, maxBytes = 0): Promise<string> {
  const root = mkdtempSync(join(dir, 'root-'));
  await extractTarStream(decompressFile(archive, detectCompression(readHead(archive))), root, { maxBytes });
  return root;
}

describe('memberComponents', () => {
  it.each([
    ['./usr/bin/a', ['usr', 'bin', 'a']],
    ['/etc/x', ['etc', 'x']],
    ['a//b/./c/', ['a', 'b', 'c']],
    ['./', []],
  ])('%s -> %j', (name, want) => {
    expect(memberComponents(name)).toEqual(want);
  });
  it.each(['../x', 'a/../../b', 'a/..'])('rejects %s', (name) => {
    expect(() => memberComponents(name)).toThrow(/contains '\.\.'/);
  });
});

describe('parsePax', () => {
  it('keeps binary values byte-exact', () => {
    const val = Buffer.from([0x01, 0x00, 0xff, 0x0a, 0x3d]);
    const body = Buffer.concat([Buffer.from('SCHILY.xattr.user.b='), val, Buffer.from('\n')]);
    const len = body.length + 1 + String(body.length + 3).length;
    const rec = Buffer.concat([Buffer.from(`${len} `), body]);
    expect(rec.length).toBe(len);
    const m = parsePax(Buffer.concat([rec, Buffer.from('12 path=abc\n')]));
    expect(m.get('SCHILY.xattr.user.b')).toEqual(val);
    expect(m.get('path')?.toString()).toBe('abc');
  });
});

describe('extractTarStream', () => {
  const comps: TestCompression[] = ['plain', 'gzip', 'bzip2', 'xz', 'zstd'];
  it.each(comps)('keeps owner, setuid mode, xattrs (not selinux), devices, links, mtimes (%s)', async (c) => {
    const f = makeTar(join(dir, `meta-${c}.tar`), [
      { name: './', type: 'dir', mode: 0o755 },
      { name: 'usr/bin/a', type: 'file', data: 'hello', mode: 0o4755, uid: 1000, gid: 1001, mtime: 1600000000,
        xattrsHex: { 'user.bin': '00ff01', 'security.selinux': '6161' } },
      { name: 'usr/bin/b', type: 'hardlink', linkname: 'usr/bin/a' },
      { name: 'dev/null', type: 'chardev', major: 1, minor: 3, mode: 0o666 },
      { name: 'dev/sda', type: 'blockdev', major: 8, minor: 0, mode: 0o660, gid: 6 },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
      { name: 'etc/mtab', type: 'symlink', linkname: '/proc/self/mounts', uid: 5, gid: 6 },
      { name: 'var', type: 'dir', mode: 0o1777, mtime: 1500000000 },
      { name: 'var/x', type: 'file', data: 'x' },
    ], c);
    const root = await extract(f);
    const a = statSync(join(root, 'usr/bin/a'));
    expect(readFileSync(join(root, 'usr/bin/a'), 'utf8')).toBe('hello');
    expect([a.uid, a.gid, a.mode & 0o7777, Math.floor(a.mtimeMs / 1000)]).toEqual([1000, 1001, 0o4755, 1600000000]);
    expect(statSync(join(root, 'usr/bin/b')).ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(lgetxattr(join(root, 'usr/bin/a'), 'user.bin')).toEqual(Buffer.from([0, 0xff, 1]));
    expect(lgetxattr(join(root, 'usr/bin/a'), 'security.selinux')).toBeNull();
    const dn = lstatSync(join(root, 'dev/null'));
    expect(dn.isCharacterDevice()).toBe(true);
    expect([dn.rdev, dn.mode & 0o7777]).toEqual([(1 << 8) | 3, 0o666]);
    const sda = lstatSync(join(root, 'dev/sda'));
    expect([sda.isBlockDevice(), sda.rdev, sda.gid]).toEqual([true, 8 << 8, 6]);
    expect(lstatSync(join(root, 'run/fifo')).isFIFO()).toBe(true);
    const l = lstatSync(join(root, 'etc/mtab'));
    expect([l.isSymbolicLink(), l.uid, l.gid, readlinkSync(join(root, 'etc/mtab'))]).toEqual([true, 5, 6, '/proc/self/mounts']);
    const v = lstatSync(join(root, 'var'));
    expect([v.mode & 0o7777, Math.floor(v.mtimeMs / 1000)]).toEqual([0o1777, 1500000000]);
    expect(statSync(root).mode & 0o7777).toBe(0o755);
  });

  it('caps decompressed bytes at maxBytes', async () => {
    const f = makeTar(join(dir, 'big.tar'), [{ name: 'big', type: 'file', data: 'x'.repeat(200_000) }], 'gzip');
    await expect(extract(f, 100_000)).rejects.toThrow(/exceeds max_download_size/);
    await expect(extract(f, 0)).resolves.toBeTruthy();
  });

  it('rejects non-tar input and truncated archives', async () => {
    const junk = join(dir, 'junk.tar');
    writeFileSync(junk, Buffer.alloc(2048, 7));
    await expect(extract(junk)).rejects.toThrow(/not a tar archive/);
    const f = makeTar(join(dir, 'trunc.tar'), [{ name: 'f', type: 'file', data: 'y'.repeat(5000) }]);
    const cut = join(dir, 'cut.tar');
    writeFileSync(cut, readFileSync(f).subarray(0, 2048));
    await expect(extract(cut)).rejects.toThrow(/truncated/);
  });

  it('base-256 garbage and random bytes are SdmeError "not a tar archive", not node-tar decode errors', async () => {
    const b256 = Buffer.alloc(2048, 0);
    b256.write('file', 0);
    b256[124] = 0x80;
    b256[125] = 0xff;
    const cases: [string, Buffer][] = [
      ['b256.tar', b256],
      ['random.tar', randomBytes(4096)],
    ];
    for (const [name, data] of cases) {
      const p = join(dir, name);
      writeFileSync(p, data);
      const err = await extract(p).then(() => undefined, (e: unknown) => e);
      expect(err, name).toBeInstanceOf(SdmeError);
      expect((err as Error).message, name).toMatch(/^not a tar archive/);
    }
  });
});
