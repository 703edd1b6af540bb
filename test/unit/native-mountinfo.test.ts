import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mount, umount2 } from '../../src/native/libc.js';
import { decodeMountPath, isMountPoint, mountsUnder, parseMountinfo } from '../../src/native/mountinfo.js';

describe('decodeMountPath', () => {
  it.each([
    ['/plain/path', '/plain/path'],
    ['/with\\040space', '/with space'],
    ['/tab\\011x', '/tab\tx'],
    ['/nl\\012x', '/nl\nx'],
    ['/back\\134slash', '/back\\slash'],
    ['/caf\\303\\251', '/café'],
    ['/not\\09octal', '/not\\09octal'],
    ['/trailing\\04', '/trailing\\04'],
  ])('%s -> %s', (input, want) => {
    expect(decodeMountPath(input)).toBe(want);
  });
});

const SAMPLE = [
  '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '36 22 0:32 / /var/lib/sdme/containers/a\\040b/merged rw,relatime - overlay overlay rw,lowerdir=/x',
  '37 22 0:33 /sub /srv/data rw master:3 shared:4 - tmpfs tmpfs rw,size=10k',
  'garbage line',
  '',
].join('\n');

describe('parseMountinfo', () => {
  it('parses fields, optional fields and decodes paths', () => {
    const e = parseMountinfo(SAMPLE);
    expect(e).toHaveLength(3);
    expect(e[1]).toMatchObject({
      mountId: 36,
      parentId: 22,
      dev: '0:32',
      mountPoint: '/var/lib/sdme/containers/a b/merged',
      fsType: 'overlay',
      source: 'overlay',
      optional: [],
    });
    expect(e[2]).toMatchObject({ root: '/sub', optional: ['master:3', 'shared:4'], fsType: 'tmpfs', superOptions: 'rw,size=10k' });
  });

  it('mountsUnder keeps strictly-under mounts only', () => {
    const entries = parseMountinfo(
      [
        '1 0 0:1 / /d rw - tmpfs t rw',
        '2 1 0:2 / /d/x rw - tmpfs t rw',
        '3 1 0:3 / /d/x/y rw - tmpfs t rw',
        '4 1 0:4 / /dother rw - tmpfs t rw',
        '5 1 0:5 / /d/sp\\040ace rw - tmpfs t rw',
      ].join('\n'),
    );
    expect(mountsUnder('/d', entries).sort()).toEqual(['/d/sp ace', '/d/x', '/d/x/y']);
    expect(mountsUnder('/d/', entries)).toHaveLength(3);
  });
});

describe('live mountinfo (root)', () => {
  const base = mkdtempSync(join(tmpdir(), 'sdme-mi-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('sees a tmpfs mounted on a path with a space and a backslash', () => {
    const mp = join(base, 'odd dir\\x');
    mkdirSync(mp);
    mount('tmpfs', mp, 'tmpfs', 0, 'size=1m');
    try {
      expect(mountsUnder(base)).toEqual([mp]);
      expect(isMountPoint(mp)).toBe(true);
      expect(isMountPoint(base)).toBe(false);
    } finally {
      umount2(mp);
    }
    expect(mountsUnder(base)).toEqual([]);
  });
});
