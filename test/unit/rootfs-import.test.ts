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
import { checkDirSource, inferRawName, inferRootfsName, parseRegistryRef } from '../../src/engine/rootfs/source.js';
import { layout } from '../../src/engine/catalogue/paths.js';
import { parseMountinfo } from '../../src/native/mountinfo.js';
import { SdmeError } from '../../src/engine/errors.js';
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

describe('bad directory sources, datadir modes and lock files', () => {
  const lockFiles = (c: ReturnType<typeof tmpCtx>) => {
    try {
      return fs.readdirSync(join(c.layout.locksDir, 'fs'));
    } catch {
      return [];
    }
  };
  const bootDir = (dir: string) => {
    for (const e of BOOT) {
      fs.mkdirSync(join(dir, e.name, '..'), { recursive: true });
      fs.writeFileSync(join(dir, e.name), e.type === 'file' ? (e.data ?? '') : '');
    }
    return dir;
  };

  it('refuses / and a source that contains the datadir, before writing anything', async () => {
    const src = bootDir(fs.mkdtempSync(join(work, 'self-')));
    const c = tmpCtx('sdme-self-');
    c.layout = layout(join(src, 'data'));
    await expect(importRootfs(c, src, { name: 'selfcopy', force: true })).rejects.toThrow(
      `refusing to import ${src}: it contains the sdme data directory ${join(src, 'data')}`,
    );
    await expect(importRootfs(c, '/', { name: 'host' })).rejects.toThrow(/refusing to import \/ .*sdme create` without -r/);
    // a symlink to an ancestor is resolved, not trusted
    fs.symlinkSync(src, join(work, 'self-link'));
    await expect(importRootfs(c, join(work, 'self-link'), { name: 'selfcopy' })).rejects.toThrow(/contains the sdme data directory/);
    expect(fs.existsSync(join(src, 'data'))).toBe(false);
  });

  it('a source inside the datadir (an existing rootfs) can be imported under another name', async () => {
    const c = tmpCtx('sdme-inner-');
    await importRootfs(c, bootDir(fs.mkdtempSync(join(work, 'inner-'))), { name: 'orig' });
    await importRootfs(c, c.layout.fsPath('orig'), { name: 'copy' });
    expect(fs.readFileSync(join(c.layout.fsPath('copy'), 'etc/os-release'), 'utf8')).toContain('Testix');
    await expect(importRootfs(c, c.layout.datadir, { name: 'whole', force: true })).rejects.toThrow(/contains the sdme data directory/);
    await expect(importRootfs(c, c.layout.fsDir, { name: 'whole', force: true })).rejects.toThrow(/contains the sdme data directory/);
    fs.rmSync(c.layout.datadir, { recursive: true, force: true });
  });

  it('the datadir is created 0700 by fs import; fs/ and locks/ inside it', async () => {
    const parent = fs.mkdtempSync(join(work, 'dd-'));
    const c = tmpCtx('sdme-mode-');
    c.layout = layout(join(parent, 'a', 'data'));
    await importRootfs(c, bootDir(fs.mkdtempSync(join(work, 'mode-'))), { name: 'm' });
    expect(fs.statSync(c.layout.datadir).mode & 0o7777).toBe(0o700);
    expect(fs.statSync(join(parent, 'a')).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(c.layout.locksDir).mode & 0o7777).toBe(0o700);
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('failed imports and fs rm leave no lock file; a missing name creates none', async () => {
    const c = tmpCtx('sdme-locks-');
    const nosd = makeTar(join(work, 'lk-nosd.tar'), [{ name: 'etc/os-release', type: 'file', data: 'ID=alpine\n' }]);
    await expect(importRootfs(c, nosd, { name: 'failed' })).rejects.toThrow(/no systemd/);
    expect(lockFiles(c)).toEqual([]);
    await expect(removeRootfs(c, 'nope')).rejects.toThrow("root filesystem 'nope' not found");
    expect(await removeRootfs(c, 'nope', { force: true })).toBe(false);
    expect(lockFiles(c)).toEqual([]);
    await importRootfs(c, makeTar(join(work, 'lk-ok.tar'), BOOT), { name: 'ok' });
    await removeRootfs(c, 'ok');
    expect(lockFiles(c)).toEqual([]);
    fs.rmSync(c.layout.datadir, { recursive: true, force: true });
  });

  it('a proc mount inside the source is not descended into; a source on proc is refused', async () => {
    const src = bootDir(fs.mkdtempSync(join(work, 'withproc-')));
    fs.mkdirSync(join(src, 'proc'));
    execFileSync('mount', ['-t', 'proc', 'proc', join(src, 'proc')]);
    const c = tmpCtx('sdme-proc-');
    try {
      await importRootfs(c, src, { name: 'withproc' });
      expect(fs.readdirSync(join(c.layout.fsPath('withproc'), 'proc'))).toEqual([]);
      expect(c.notes.some((n) => n.includes(`not copying the contents of ${join(src, 'proc')} (a proc mount)`))).toBe(true);
      await expect(importRootfs(c, join(src, 'proc', 'sys'), { name: 'procsys', force: true })).rejects.toThrow(
        /it is on a proc filesystem, not a root filesystem/,
      );
    } finally {
      execFileSync('umount', [join(src, 'proc')]);
      fs.rmSync(c.layout.datadir, { recursive: true, force: true });
    }
  });

  it('checkDirSource with a fake mount table: topmost mount wins, non-pseudo mounts are copied', () => {
    const m = (id: number, point: string, type: string) =>
      `${id} 1 0:${id} / ${point} rw - ${type} x rw`;
    const fake = parseMountinfo(
      [m(1, '/', 'ext4'), m(2, '/srv/root/proc', 'proc'), m(3, '/srv/root/sys', 'sysfs'), m(4, '/srv/root/sys', 'tmpfs'), m(5, '/srv/root/home', 'ext4'), m(6, '/srv/rootx/proc', 'proc')].join('\n'),
    );
    const r = checkDirSource('/srv/root', layout('/var/lib/sdme'), fake);
    expect(r.root).toBe('/srv/root');
    expect([...r.skipContents]).toEqual([['/srv/root/proc', 'proc']]);
    expect(() => checkDirSource('/srv/root/proc/1', layout('/var/lib/sdme'), fake)).toThrow(/on a proc filesystem/);
  });

  it('an errno failure during the copy is a one-line SdmeError with the path (no stack)', async () => {
    const mnt = fs.mkdtempSync(join(work, 'tiny-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    const src = bootDir(fs.mkdtempSync(join(work, 'big-')));
    fs.writeFileSync(join(src, 'big'), Buffer.alloc(1 << 20, 1));
    const c = tmpCtx('sdme-enospc-');
    c.layout = layout(join(mnt, 'data'));
    try {
      const err = await importRootfs(c, src, { name: 'big' }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SdmeError);
      expect((err as Error).message).toMatch(new RegExp(`^cannot import ${src}: ENOSPC: no space left on device, .*big`));
      expect(fs.readdirSync(c.layout.fsDir)).toEqual([]);
      expect(lockFiles(c)).toEqual([]);
    } finally {
      execFileSync('umount', [mnt]);
      fs.rmSync(c.layout.datadir, { recursive: true, force: true });
    }
  });
});
