/**
 * Root-only real-mount tests for safeRemoveDir (lifecycle.md §7,
 * shared/cases/rm-busy-mount.md): a canary bind-mounted into the tree must
 * survive every case.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { safeRemoveDir } from '../../src/engine/catalogue/safe-remove.js';
import { MS_BIND, mount, umount2 } from '../../src/native/libc.js';
import { mountsUnder } from '../../src/native/mountinfo.js';
import { waitFor } from './catalogue-support.js';

const base = mkdtempSync(join(tmpdir(), 'sdme-saferm-'));
const kids: ChildProcess[] = [];

function cleanupMounts(): void {
  for (const m of mountsUnder(base).sort((a, b) => b.length - a.length)) {
    try {
      umount2(m, 2 /* MNT_DETACH */);
    } catch {
      /* already gone */
    }
  }
}

afterEach(() => {
  for (const k of kids.splice(0)) k.kill('SIGKILL');
  cleanupMounts();
});
afterAll(() => {
  cleanupMounts();
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
/** A container-like tree with a canary bind mount and nested tmpfs mounts. */
function setup() {
  const root = join(base, `t${n++}`);
  const canary = join(root, 'canary');
  mkdirSync(canary, { recursive: true });
  writeFileSync(join(canary, 'secret'), 'ORIGINAL');
  const c1 = join(root, 'containers', 'c1');
  for (const d of ['upper/etc', 'upper/srv', 'work', 'merged']) mkdirSync(join(c1, d), { recursive: true });
  writeFileSync(join(c1, 'upper/etc/hostname'), 'c1\n');
  symlinkSync(canary, join(c1, 'upper/escape')); // must be removed as a link, never followed
  symlinkSync(join(canary, 'secret'), join(c1, 'upper/escape-file'));
  mkdirSync(join(c1, 'upper/locked/inner'), { recursive: true });
  writeFileSync(join(c1, 'upper/locked/inner/f'), 'x');
  chmodSync(join(c1, 'upper/locked/inner'), 0o000);
  chmodSync(join(c1, 'upper/locked'), 0o000);
  return { root, canary, c1 };
}

function canaryIntact(canary: string): void {
  expect(readFileSync(join(canary, 'secret'), 'utf8')).toBe('ORIGINAL');
}

describe('safeRemoveDir', () => {
  it('removes a plain tree with locked dirs and symlinks pointing out, without following them', async () => {
    const { canary, c1 } = setup();
    await safeRemoveDir(c1);
    expect(existsSync(c1)).toBe(false);
    canaryIntact(canary);
    await safeRemoveDir(c1); // missing dir: no-op
  });

  it('unmounts nested tmpfs and a canary bind mount (deepest first), then deletes; canary survives', async () => {
    const { canary, c1 } = setup();
    mount('tmpfs', join(c1, 'merged'), 'tmpfs', 0, 'size=1m');
    mkdirSync(join(c1, 'merged/data'));
    mkdirSync(join(c1, 'merged/with space'));
    mount(canary, join(c1, 'merged/data'), null, MS_BIND);
    mount('tmpfs', join(c1, 'merged/with space'), 'tmpfs', 0, 'size=1m');
    mount(canary, join(c1, 'upper/srv'), null, MS_BIND);
    expect(mountsUnder(c1)).toHaveLength(4);
    const notes: string[] = [];
    await safeRemoveDir(c1, { note: (m) => notes.push(m) });
    expect(existsSync(c1)).toBe(false);
    expect(mountsUnder(base)).toEqual([]);
    canaryIntact(canary);
    expect(notes).toEqual([`unmounting 4 stale mount(s) under ${c1}`]);
  });

  it('refuses without deleting anything while a mount is busy, and succeeds once it is free', async () => {
    const { canary, c1 } = setup();
    mount('tmpfs', join(c1, 'merged'), 'tmpfs', 0, 'size=1m');
    mount(canary, join(c1, 'upper/srv'), null, MS_BIND);
    // a process sitting in the merged dir keeps it busy
    const sleeper = spawn('sleep', ['600'], { cwd: join(c1, 'merged'), stdio: 'ignore' });
    kids.push(sleeper);
    await waitFor(() => existsSync(`/proc/${sleeper.pid}/cwd`) && readlinkSync(`/proc/${sleeper.pid}/cwd`) === join(c1, 'merged'));
    await expect(safeRemoveDir(c1)).rejects.toThrow(
      `refusing to remove ${c1}: stale mounts could not be unmounted: ${join(c1, 'merged')}`,
    );
    // nothing was deleted
    expect(readFileSync(join(c1, 'upper/etc/hostname'), 'utf8')).toBe('c1\n');
    canaryIntact(canary);
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
    await safeRemoveDir(c1);
    expect(existsSync(c1)).toBe(false);
    canaryIntact(canary);
  });

  it('a copy of the mounts held by another mount namespace does not block removal here', async () => {
    const { canary, c1 } = setup();
    mount('tmpfs', join(c1, 'merged'), 'tmpfs', 0, 'size=1m');
    mount(canary, join(c1, 'upper/srv'), null, MS_BIND);
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '600'], { stdio: 'ignore' });
    kids.push(holder);
    const myNs = readlinkSync('/proc/self/ns/mnt');
    await waitFor(() => {
      try {
        return readlinkSync(`/proc/${holder.pid}/exe`).endsWith('/sleep') && readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== myNs;
      } catch {
        return false;
      }
    });
    await safeRemoveDir(c1);
    expect(existsSync(c1)).toBe(false);
    expect(mountsUnder(base)).toEqual([]);
    canaryIntact(canary);
  });

  it('belt and braces: if mountinfo missed a mount, the walk refuses to cross it (tmpfs and same-fs bind)', async () => {
    for (const kind of ['tmpfs', 'bind'] as const) {
      const { canary, c1 } = setup();
      const target = join(c1, 'upper/srv');
      if (kind === 'tmpfs') {
        mount('tmpfs', target, 'tmpfs', 0, 'size=1m');
        writeFileSync(join(target, 'inside'), 'keep');
      } else {
        mount(canary, target, null, MS_BIND);
      }
      await expect(safeRemoveDir(c1, { mounts: () => [] })).rejects.toThrow(
        `refusing to remove ${target}: it is on another mount than the directory being removed`,
      );
      canaryIntact(canary);
      if (kind === 'tmpfs') expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('keep');
      umount2(target);
      await safeRemoveDir(c1);
      expect(existsSync(c1)).toBe(false);
    }
  });

  it('refuses to remove a directory that is itself a mount point', async () => {
    const { canary, c1 } = setup();
    mount(canary, c1, null, MS_BIND);
    await expect(safeRemoveDir(c1)).rejects.toThrow(`refusing to remove ${c1}: it is itself a mount point`);
    canaryIntact(canary);
  });
});
