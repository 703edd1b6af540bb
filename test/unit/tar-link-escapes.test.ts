/**
 * cases/tar-link-escapes.md: archives that try to escape through links, each
 * in plain, gzip, xz and zstd (files named `.tar` whatever the compression).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTar, type TarSpecEntry, type TestCompression } from './helpers/mktar.js';
import { tmpCtx } from './helpers/rootfs-ctx.js';
import { importRootfs } from '../../src/engine/rootfs/import.js';

const ctx = tmpCtx('sdme-escapes-');
const canary = mkdtempSync('/tmp/sdme-canary-');
const secret = join(canary, 'secret');
const work = mkdtempSync('/tmp/sdme-escapes-src-');
let canaryIno = 0;

beforeAll(() => {
  writeFileSync(secret, 'original secret\n');
  canaryIno = statSync(secret).ino;
});
afterAll(() => {
  for (const d of [ctx.layout.datadir, canary, work]) rmSync(d, { recursive: true, force: true });
});

// a rootfs that passes the systemd/dbus check
const BOOTABLE: TarSpecEntry[] = [
  { name: 'usr/lib/systemd/systemd', type: 'file', data: '#!/bin/true\n', mode: 0o755 },
  { name: 'usr/bin/dbus-daemon', type: 'file', data: '#!/bin/true\n', mode: 0o755 },
];
const rel = `../../../../../../../..${canary}`;

const BAD: Record<string, TarSpecEntry[]> = {
  'symlink then write through it': [
    { name: 'pwn', type: 'symlink', linkname: canary },
    { name: 'pwn/escaped.txt', type: 'file', data: 'pwned' },
  ],
  'deep relative symlink then write through it': [
    { name: 'pwn', type: 'symlink', linkname: rel },
    { name: 'pwn/escaped.txt', type: 'file', data: 'pwned' },
  ],
  'directory replaced by symlink then write': [
    { name: 'x', type: 'dir' },
    { name: 'x', type: 'symlink', linkname: canary },
    { name: 'x/pwned', type: 'file', data: 'pwned' },
  ],
  'hardlink with ../ target then overwrite': [
    { name: 'a/b/c/d', type: 'dir' },
    { name: 'a/b/c/d/x', type: 'hardlink', linkname: `../../../../../../../..${secret}` },
    { name: 'a/b/c/d/x', type: 'file', data: 'overwritten' },
  ],
  'hardlink to absolute path': [{ name: 'abs', type: 'hardlink', linkname: secret }],
  'hardlink through a symlink': [
    { name: 'l', type: 'symlink', linkname: canary },
    { name: 'exfil', type: 'hardlink', linkname: 'l/secret' },
  ],
  'entry named ../x': [{ name: '../x', type: 'file', data: 'up' }],
};
const ERRORS: Record<string, RegExp> = {
  'symlink then write through it': /written through the symbolic link 'pwn'/,
  'deep relative symlink then write through it': /written through the symbolic link 'pwn'/,
  'directory replaced by symlink then write': /written through the symbolic link 'x'/,
  'hardlink with ../ target then overwrite': /hard link target .* contains '\.\.'/,
  'hardlink to absolute path': /points at '.*secret', which is not in the archive/,
  'hardlink through a symlink': /'l\/secret' would be written through the symbolic link 'l'/,
  'entry named ../x': /entry '\.\.\/x' contains '\.\.'/,
};

function assertCanaryIntact(): void {
  expect(readFileSync(secret, 'utf8')).toBe('original secret\n');
  const st = lstatSync(secret);
  expect(st.nlink).toBe(1);
  expect(st.ino).toBe(canaryIno);
  expect(readdirSync(canary)).toEqual(['secret']);
}

/** Every non-directory in root: its link count equals its occurrences inside root (no host sharing). */
function assertNoSharedInodes(root: string): Map<string, string[]> {
  const seen = new Map<string, { nlink: number; paths: string[] }>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else {
        const k = `${st.dev}:${st.ino}`;
        const e = seen.get(k) ?? { nlink: st.nlink, paths: [] };
        e.paths.push(p.slice(root.length + 1));
        seen.set(k, e);
      }
    }
  };
  walk(root);
  for (const [, v] of seen) expect({ paths: v.paths, nlink: v.nlink }).toEqual({ paths: v.paths, nlink: v.paths.length });
  expect(seen.has(`${lstatSync(secret).dev}:${canaryIno}`)).toBe(false);
  return new Map([...seen.values()].map((v) => [v.paths[0]!, v.paths]));
}

function leftovers(name: string): string[] {
  return readdirSync(ctx.layout.fsDir).filter((e) => e === name || e.startsWith(`.${name}.`));
}

const COMPS: TestCompression[] = ['plain', 'gzip', 'xz', 'zstd'];
let n = 0;

describe.each(COMPS)('tar link escapes (%s)', (comp) => {
  it.each(Object.keys(BAD))('%s: rejected, canary intact, nothing left behind', async (scenario) => {
    const name = `bad${++n}`;
    const archive = makeTar(join(work, `${name}.tar`), [...BOOTABLE, ...BAD[scenario]!], comp);
    await expect(importRootfs(ctx, archive, { name })).rejects.toThrow(ERRORS[scenario]!);
    assertCanaryIntact();
    expect(leftovers(name)).toEqual([]);
    expect(readdirSync(ctx.layout.fsDir).filter((e) => e.includes('-txn-'))).toEqual([]);
  });

  it('good hardlink pair shares an inode; absolute names are confined', async () => {
    const name = `good${++n}`;
    const archive = makeTar(join(work, `${name}.tar`), [
      ...BOOTABLE,
      { name: 'usr/bin/a', type: 'file', data: 'binary a' },
      { name: 'usr/bin/b', type: 'hardlink', linkname: 'usr/bin/a' },
      { name: '/etc/x', type: 'file', data: 'confined' },
    ], comp);
    expect(await importRootfs(ctx, archive, { name })).toBe(name);
    const root = ctx.layout.fsPath(name);
    const a = statSync(join(root, 'usr/bin/a'));
    expect(statSync(join(root, 'usr/bin/b')).ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(readFileSync(join(root, 'etc/x'), 'utf8')).toBe('confined');
    const groups = assertNoSharedInodes(root);
    expect(groups.get('usr/bin/a')).toEqual(['usr/bin/a', 'usr/bin/b']);
    assertCanaryIntact();
    expect(leftovers(name).sort()).toEqual([`.${name}.meta`, name]);
  });
});

it('a symlink that points outside is kept verbatim but nothing is written through it', async () => {
  const archive = makeTar(join(work, 'dangling.tar'), [...BOOTABLE, { name: 'etc/link', type: 'symlink', linkname: canary }]);
  await importRootfs(ctx, archive, { name: 'dangling' });
  assertCanaryIntact();
  expect(lstatSync(join(ctx.layout.fsPath('dangling'), 'etc/link')).isSymbolicLink()).toBe(true);
});
