import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeTar, type TarSpecEntry } from './helpers/mktar.js';
import { tmpCtx } from './helpers/rootfs-ctx.js';
import { importRootfs } from '../../src/engine/rootfs/import.js';
import { formatRootfsTable, listRootfs, rootfsJson } from '../../src/engine/rootfs/list.js';
import { removeRootfs } from '../../src/engine/rootfs/remove.js';
import { gcMessage, gcRootfs } from '../../src/engine/rootfs/gc.js';
import { detectOs, familyOf, parseOsRelease } from '../../src/engine/rootfs/detect.js';
import { inferRawName, inferRootfsName, parseRegistryRef } from '../../src/engine/rootfs/source.js';
import { detectCompression } from '../../src/engine/rootfs/compression.js';
import { lgetxattr, lsetxattr, makedev, mknod, S_IFCHR } from '../../src/native/libc.js';

const ctx = tmpCtx('sdme-import-');
const work = fs.mkdtempSync('/tmp/sdme-import-src-');
afterAll(() => {
  fs.rmSync(ctx.layout.datadir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

const BOOT: TarSpecEntry[] = [
  { name: 'usr/lib/systemd/systemd', type: 'file', data: 'x', mode: 0o755 },
  { name: 'usr/bin/dbus-daemon', type: 'file', data: 'x', mode: 0o755 },
  { name: 'etc/os-release', type: 'file', data: 'NAME="Testix"\nPRETTY_NAME="Testix 1.0"\nID=testix\nID_LIKE=debian\n' },
];

function writeState(container: string, rootfs: string): void {
  fs.mkdirSync(ctx.layout.stateDir, { recursive: true });
  fs.writeFileSync(ctx.layout.stateFile(container), `CREATED=1\nNAME=${container}\nROOTFS=${rootfs}\n`);
}

describe('name inference', () => {
  it.each([
    ['/srv/images/ubuntu.tar.gz', 'ubuntu'],
    ['debian.TAR.ZST', 'debian'],
    ['/x/alpine.tgz', 'alpine'],
    ['img.oci.tar.xz', 'img'],
    ['https://example.com/a/fedora.tar.xz?sig=1#frag', 'fedora'],
    ['/var/lib/machines/mybox/', 'mybox'],
    ['disk.raw.gz', 'disk'],
    ['vm.qcow2', 'vm'],
    ['data.bz2', 'data'],
    ['docker.io/library/ubuntu:24.04', 'ubuntu'],
    ['quay.io/fedora/fedora', 'fedora'],
    ['registry.example.com:5000/team/app-x', 'app-x'],
    ['plain', 'plain'],
  ])('%s -> %s', (src, want) => {
    expect(inferRootfsName(src)).toBe(want);
  });
  it.each([['/x/My_Image.tar'], ['/x/.tar'], ['/x/9lives.tar.gz']])('%s is refused with a hint to use --name', (src) => {
    expect(() => inferRootfsName(src)).toThrow(/cannot infer a valid rootfs name .*use --name/);
  });
  it('keeps text for unknown suffixes and bare suffix names', () => {
    expect(inferRawName('/a/b/foo.squashfs')).toBe('foo.squashfs');
    expect(inferRawName('/a/.gz')).toBe('.gz');
  });
  it('registry refs need a dotted host', () => {
    expect(parseRegistryRef('library/ubuntu')).toBeUndefined();
    expect(parseRegistryRef('./a.b/c')).toBeUndefined();
    expect(parseRegistryRef('localhost:5000/x:1')).toBeUndefined();
    expect(parseRegistryRef('host.io:5000/x')).toEqual({ registry: 'host.io:5000', repository: 'x', tag: 'latest' });
    expect(parseRegistryRef('docker.io/debian:stable')).toEqual({ registry: 'docker.io', repository: 'debian', tag: 'stable' });
  });
});

describe('compression by magic bytes', () => {
  it.each([
    [[0x1f, 0x8b, 8], 'gzip'],
    [[0x42, 0x5a, 0x68, 0x39], 'bzip2'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz'],
    [[0x28, 0xb5, 0x2f, 0xfd], 'zstd'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x01], 'none'],
    [[0x75, 0x73, 0x72], 'none'],
  ])('%j -> %s', (bytes, want) => {
    expect(detectCompression(Buffer.from(bytes))).toBe(want);
  });
  it.each([
    ['gzip', 'lying.tar.xz'],
    ['xz', 'lying.tar.gz'],
    ['zstd', 'lying.tar'],
    ['bzip2', 'lying.tar.zst'],
    ['plain', 'lying.tar.bz2'],
  ] as const)('imports %s content named %s', async (comp, file) => {
    const name = `lie-${comp}`;
    const p = makeTar(join(work, `${comp}-${file}`), [...BOOT, { name: 'marker', type: 'file', data: comp }], comp);
    await importRootfs(ctx, p, { name });
    expect(fs.readFileSync(join(ctx.layout.fsPath(name), 'marker'), 'utf8')).toBe(comp);
  });
});

describe('directory import', () => {
  it('keeps owner, mode, xattrs (not security.selinux), hardlinks, devices, fifos, symlinks, times', async () => {
    const src = join(work, 'srcdir');
    fs.mkdirSync(join(src, 'usr/bin'), { recursive: true });
    fs.mkdirSync(join(src, 'usr/lib/systemd'), { recursive: true });
    fs.mkdirSync(join(src, 'dev'));
    fs.mkdirSync(join(src, 'opaque'));
    fs.writeFileSync(join(src, 'usr/lib/systemd/systemd'), 'sd');
    fs.writeFileSync(join(src, 'usr/bin/dbus-daemon'), 'db');
    fs.writeFileSync(join(src, 'usr/bin/su'), 'su');
    fs.chownSync(join(src, 'usr/bin/su'), 0, 42);
    fs.chmodSync(join(src, 'usr/bin/su'), 0o4750);
    fs.linkSync(join(src, 'usr/bin/su'), join(src, 'usr/bin/su2'));
    fs.chownSync(join(src, 'opaque'), 1234, 5678);
    fs.chmodSync(join(src, 'opaque'), 0o2711);
    lsetxattr(join(src, 'opaque'), 'trusted.overlay.opaque', 'y');
    lsetxattr(join(src, 'usr/bin/su'), 'user.note', Buffer.from([0, 1, 2, 255]));
    let selinuxSet = true;
    try {
      lsetxattr(join(src, 'usr/bin/su'), 'security.selinux', 'system_u:object_r:bin_t:s0');
    } catch {
      selinuxSet = false;
    }
    mknod(join(src, 'dev/null'), S_IFCHR | 0o666, makedev(1, 3));
    fs.chmodSync(join(src, 'dev/null'), 0o666); // mknod honours the umask
    execFileSync('mkfifo', [join(src, 'dev/initctl')]);
    fs.symlinkSync('/usr/bin/su', join(src, 'sulink'));
    fs.lchownSync(join(src, 'sulink'), 7, 8);
    fs.utimesSync(join(src, 'usr/bin/dbus-daemon'), 1234567890, 1234567890);
    fs.chmodSync(src, 0o755);

    expect(await importRootfs(ctx, src, {})).toBe('srcdir');
    const dst = ctx.layout.fsPath('srcdir');
    const su = fs.lstatSync(join(dst, 'usr/bin/su'));
    expect([su.uid, su.gid, su.mode & 0o7777, su.nlink]).toEqual([0, 42, 0o4750, 2]);
    expect(fs.lstatSync(join(dst, 'usr/bin/su2')).ino).toBe(su.ino);
    expect(su.ino).not.toBe(fs.lstatSync(join(src, 'usr/bin/su')).ino);
    const op = fs.lstatSync(join(dst, 'opaque'));
    expect([op.uid, op.gid, op.mode & 0o7777]).toEqual([1234, 5678, 0o2711]);
    expect(lgetxattr(join(dst, 'opaque'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(lgetxattr(join(dst, 'usr/bin/su'), 'user.note')).toEqual(Buffer.from([0, 1, 2, 255]));
    if (selinuxSet) expect(lgetxattr(join(dst, 'usr/bin/su'), 'security.selinux')).toBeNull();
    const dn = fs.lstatSync(join(dst, 'dev/null'));
    expect([dn.isCharacterDevice(), dn.rdev, dn.mode & 0o777]).toEqual([true, (1 << 8) | 3, 0o666]);
    expect(fs.lstatSync(join(dst, 'dev/initctl')).isFIFO()).toBe(true);
    const sl = fs.lstatSync(join(dst, 'sulink'));
    expect([sl.isSymbolicLink(), fs.readlinkSync(join(dst, 'sulink')), sl.uid, sl.gid]).toEqual([true, '/usr/bin/su', 7, 8]);
    expect(Math.floor(fs.statSync(join(dst, 'usr/bin/dbus-daemon')).mtimeMs / 1000)).toBe(1234567890);
    expect(fs.statSync(dst).mode & 0o7777).toBe(0o755);
  });
});

describe('transactions and gc', () => {
  it('import removes stale staging of the same name only; fs gc removes the rest of dead PIDs', async () => {
    const fsDir = ctx.layout.fsDir;
    fs.mkdirSync(join(fsDir, '.gcme.import-txn-999999999/usr'), { recursive: true });
    fs.mkdirSync(join(fsDir, '.other.import-txn-999999998'), { recursive: true });
    fs.writeFileSync(join(fsDir, '.other.download-txn-999999997'), 'partial');
    fs.mkdirSync(join(fsDir, '.alive.import-txn-1'), { recursive: true }); // PID 1 exists
    const p = makeTar(join(work, 'gcme.tar'), BOOT, 'gzip');
    await importRootfs(ctx, p, {});
    const after = fs.readdirSync(fsDir);
    expect(after).not.toContain('.gcme.import-txn-999999999');
    expect(after).toContain('.other.import-txn-999999998');
    expect(await gcRootfs(ctx)).toBe(2);
    expect(fs.readdirSync(fsDir).filter((e) => e.includes('-txn-'))).toEqual(['.alive.import-txn-1']);
    expect(await gcRootfs(ctx)).toBe(0);
    expect([gcMessage(0), gcMessage(2)]).toEqual(['no stale transactions found', 'cleaned 2 stale transaction(s)']);
    fs.rmdirSync(join(fsDir, '.alive.import-txn-1'));
  });
});

describe('replace (-f), in-use checks, fs rm, fs ls', () => {
  const v1 = () => makeTar(join(work, 'rep-v1.tar'), [...BOOT, { name: 'v', type: 'file', data: '1' }]);
  const v2 = () => makeTar(join(work, 'rep-v2.tar'), [...BOOT, { name: 'v', type: 'file', data: '2' }]);
  const bad = () => makeTar(join(work, 'rep-bad.tar'), [...BOOT, { name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/x', type: 'file', data: '' }]);
  const version = () => fs.readFileSync(join(ctx.layout.fsPath('rep'), 'v'), 'utf8');

  it('needs --force to replace; a failing replacement keeps the old rootfs', async () => {
    await importRootfs(ctx, v1(), { name: 'rep' });
    await expect(importRootfs(ctx, v2(), { name: 'rep' })).rejects.toThrow(/'rep' already exists; use --force/);
    await expect(importRootfs(ctx, bad(), { name: 'rep', force: true })).rejects.toThrow(/symbolic link 'l'/);
    expect(version()).toBe('1');
    await importRootfs(ctx, v2(), { name: 'rep', force: true });
    expect(version()).toBe('2');
    expect(fs.readdirSync(ctx.layout.fsDir).filter((e) => e.startsWith('.rep.') && e.includes('-txn-'))).toEqual([]);
  });

  it('refuses to replace or remove a rootfs in use; fs ls shows the user', async () => {
    writeState('box1', 'rep');
    await expect(importRootfs(ctx, v1(), { name: 'rep', force: true })).rejects.toThrow(/in use by container 'box1'/);
    expect(version()).toBe('2');
    await expect(removeRootfs(ctx, 'rep')).rejects.toThrow("fs 'rep' is in use by container 'box1'");
    await expect(removeRootfs(ctx, 'rep', { force: true })).rejects.toThrow(/in use/);
    const rows = await listRootfs(ctx);
    const rep = rows.find((r) => r.name === 'rep')!;
    expect(rep).toEqual({ name: 'rep', os: 'Testix 1.0', containers: ['box1'], path: ctx.layout.fsPath('rep') });
    const table = formatRootfsTable(rows).split('\n');
    expect(table[0]).toMatch(/^NAME +OS +CONTAINERS +PATH$/);
    const repLine = table.find((l) => l.startsWith('rep '))!;
    expect(repLine.split(/ {2,}/)).toEqual(['rep', 'Testix 1.0', 'box1', ctx.layout.fsPath('rep')]);
    expect(table[1]!.indexOf(ctx.layout.fsDir)).toBe(table[0]!.indexOf('PATH'));
    const json = JSON.parse(rootfsJson(rows)) as { name: string; os: string; containers: string[] }[];
    expect(json.find((r) => r.name === 'rep')).toEqual({ name: 'rep', os: 'Testix 1.0', containers: ['box1'] });
    fs.rmSync(ctx.layout.stateFile('box1'));
  });

  it('fs rm removes the tree and the sidecars; -f tolerates a missing rootfs', async () => {
    expect(fs.existsSync(ctx.layout.fsMeta('rep'))).toBe(true);
    expect(await removeRootfs(ctx, 'rep')).toBe(true);
    expect(fs.existsSync(ctx.layout.fsPath('rep'))).toBe(false);
    expect(fs.existsSync(ctx.layout.fsMeta('rep'))).toBe(false);
    await expect(removeRootfs(ctx, 'rep')).rejects.toThrow("root filesystem 'rep' not found");
    expect(await removeRootfs(ctx, 'rep', { force: true })).toBe(false);
    await expect(removeRootfs(ctx, 'Bad_Name')).rejects.toThrow(/invalid rootfs name/);
  });

  it('empty listing message', () => {
    expect(formatRootfsTable([])).toBe('no root filesystems found\n');
    expect(rootfsJson([])).toBe('[]\n');
  });
});

describe('systemd check and unsupported sources', () => {
  it('refuses a rootfs without systemd unless -f, and says so', async () => {
    const p = makeTar(join(work, 'nosd.tar'), [{ name: 'etc/os-release', type: 'file', data: 'ID=alpine\nPRETTY_NAME="Alpine Linux"\n' }]);
    await expect(importRootfs(ctx, p, { name: 'nosd' })).rejects.toThrow(
      /rootfs has no systemd and dbus \(Alpine Linux\).*use -f to import anyway/,
    );
    expect(fs.readdirSync(ctx.layout.fsDir).filter((e) => e.includes('nosd'))).toEqual([]);
    ctx.notes.length = 0;
    await importRootfs(ctx, p, { name: 'nosd', force: true });
    expect(ctx.notes.some((n) => n.includes('rootfs has no systemd and dbus'))).toBe(true);
    expect(fs.readFileSync(ctx.layout.fsMeta('nosd'), 'utf8')).toBe('DISTRO=Alpine Linux\n');
  });

  it('unmasks resolved/logind masked with /dev/null', async () => {
    const p = makeTar(join(work, 'masked.tar'), [
      ...BOOT,
      { name: 'etc/systemd/system/systemd-logind.service', type: 'symlink', linkname: '/dev/null' },
      { name: 'etc/systemd/system/other.service', type: 'symlink', linkname: '/dev/null' },
    ]);
    await importRootfs(ctx, p, { name: 'masked' });
    const d = join(ctx.layout.fsPath('masked'), 'etc/systemd/system');
    expect(fs.readdirSync(d)).toEqual(['other.service']);
  });

  it.each([
    ['https://example.com/x.tar', /URL is not supported yet/],
    ['docker.io/library/ubuntu', /OCI registry is not supported yet/],
    ['/nonexistent/x.tar', /source path does not exist/],
  ])('%s', async (src, re) => {
    await expect(importRootfs(ctx, src, { name: 'unsup' })).rejects.toThrow(re);
  });
  it('qcow2 magic and raw names are refused before anything is written', async () => {
    const q = join(work, 'disk.tar');
    fs.writeFileSync(q, Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(1000)]));
    await expect(importRootfs(ctx, q, { name: 'unsup' })).rejects.toThrow(/QCOW2 disk images is not supported yet/);
    const r = join(work, 'disk.img.xz');
    fs.writeFileSync(r, 'x');
    await expect(importRootfs(ctx, r, {})).rejects.toThrow(/raw disk images is not supported yet/);
    expect(fs.readdirSync(ctx.layout.fsDir).filter((e) => e.includes('unsup') || e.includes('disk'))).toEqual([]);
  });
});

describe('detectOs', () => {
  it('resolves absolute symlinks inside the root, never on the host', () => {
    const root = join(work, 'osroot');
    fs.mkdirSync(join(root, 'usr/lib'), { recursive: true });
    fs.mkdirSync(join(root, 'etc'));
    fs.writeFileSync(join(root, 'usr/lib/os-release'), 'NAME=Fedora\nID=fedora\n');
    fs.symlinkSync('/usr/lib/os-release', join(root, 'etc/os-release'));
    fs.symlinkSync('usr/lib', join(root, 'lib'));
    fs.mkdirSync(join(root, 'usr/lib/systemd'));
    fs.writeFileSync(join(root, 'usr/lib/systemd/systemd'), '');
    const info = detectOs(root);
    expect(info).toMatchObject({ prettyName: 'Fedora', id: 'fedora', family: 'fedora', hasSystemd: true, hasDbus: false });
    // a link to the host's dbus must not count
    fs.mkdirSync(join(root, 'usr/bin'));
    fs.symlinkSync('../../../../../../../../usr/bin/dbus-daemon', join(root, 'usr/bin/dbus-daemon'));
    expect(detectOs(root).hasDbus).toBe(false);
  });
  it.each([
    ['ubuntu', '', 'debian'],
    ['linuxmint', 'ubuntu debian', 'debian'],
    ['rocky', 'rhel centos fedora', 'fedora'],
    ['almalinux', '', 'fedora'],
    ['manjaro', 'arch', 'arch'],
    ['opensuse-tumbleweed', 'opensuse suse', 'suse'],
    ['sles', '', 'suse'],
    ['nixos', '', 'nixos'],
    ['alpine', '', 'unknown'],
  ])('family(%s, %s) = %s', (id, like, fam) => {
    expect(familyOf(id, like.split(' ').filter(Boolean))).toBe(fam);
  });
  it('parses quoted os-release values', () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n# c\nID=debian\nX=\'a b\'\n')).toEqual({
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
      ID: 'debian',
      X: 'a b',
    });
  });
});
