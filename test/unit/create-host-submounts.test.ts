import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/native/mountinfo.js';
import { hostSubmounts } from '../../src/engine/containers/submounts.js';

const line = (id: number, mp: string, fs: string) => `${id} 1 8:1 / ${mp} rw,relatime shared:1 - ${fs} /dev/sda1 rw`;

describe('hostSubmounts (host-clone per-submount overlays)', () => {
  it('keeps real filesystems, sorted by depth then name, deduplicated', () => {
    const text = [
      line(1, '/', 'ext4'),
      line(2, '/home', 'ext4'),
      line(3, '/data/deep', 'xfs'),
      line(4, '/boot/efi', 'vfat'),
      line(5, '/boot', 'ext2'),
      line(6, '/home', 'ext4'),
      line(7, '/srv/my\\040disk', 'btrfs'),
    ].join('\n');
    expect(hostSubmounts(parseMountinfo(text))).toEqual(['boot', 'home', 'boot/efi', 'data/deep', 'srv/my disk']);
  });

  it('skips pseudo filesystems, excluded trees, `..` and `,` paths, and extra excludes', () => {
    const text = [
      line(1, '/proc', 'proc'),
      line(2, '/run/user/0', 'ext4'),
      line(3, '/tmp', 'ext4'),
      line(4, '/var/log', 'ext4'),
      line(5, '/var/logs', 'ext4'),
      line(6, '/var/tmp/x', 'ext4'),
      line(7, '/dev/shm', 'tmpfs'),
      line(8, '/mnt/a,b', 'ext4'),
      line(9, '/var/lib/sdme', 'ext4'),
      line(10, '/var/lib/sdme/x', 'ext4'),
      line(11, '/sys/fs/cgroup', 'cgroup2'),
      line(12, '/work/main', 'ext4'),
    ].join('\n');
    expect(hostSubmounts(parseMountinfo(text), ['/var/lib/sdme'])).toEqual(['var/logs', 'work/main']);
  });
});

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSubmounts } from '../../src/engine/containers/list.js';

describe('listSubmounts (ps MOUNTS / JSON submounts, real dirs)', () => {
  it('finds REL with upper+work, including a top-level dir named work and nested ones', async () => {
    const d = await mkdtemp(join(tmpdir(), 'sdme-subs-'));
    try {
      for (const rel of ['work/main', 'boot', 'boot/efi', 'home']) {
        await mkdir(join(d, rel, 'upper'), { recursive: true });
        await mkdir(join(d, rel, 'work'), { recursive: true });
      }
      expect(await listSubmounts(d)).toEqual(['boot', 'boot/efi', 'home', 'work/main']);
      expect(await listSubmounts(join(d, 'missing'))).toEqual([]);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });
});
