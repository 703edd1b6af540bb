import { describe, expect, it } from 'vitest';
import { buildSandboxArgv, innerEnv, nsenterArgv } from '../../src/engine/sandbox/argv.js';
import { checkoutWrappers, identityFiles } from '../../src/engine/sandbox/clone.js';
import { aptMirror } from '../../src/engine/sandbox/debootstrap.js';
import { sandboxPaths, validateSandboxName } from '../../src/engine/sandbox/paths.js';
import { isNspawnFor, parseStat } from '../../src/engine/sandbox/procs.js';
import { parseRecord, serializeRecord, type SandboxRecord } from '../../src/engine/sandbox/state.js';
import { cloneUnitLinks } from '../../src/engine/sandbox/units.js';
import { formatStatus, statusJson } from '../../src/cli/sandbox.js';

const L = '/lib/systemd/system';

describe('cloneUnitLinks', () => {
  const all = () => true;
  it.each([
    {
      what: 'Debian host with dbus-daemon: networkd, resolved, machines.target; host timesync alias dropped',
      lower: new Map([['dbus-org.freedesktop.timesync1.service', `${L}/systemd-timesyncd.service`]]),
      have: all,
      want: [
        'multi-user.target.wants/systemd-networkd.service',
        'dbus-org.freedesktop.network1.service',
        'sockets.target.wants/systemd-networkd.socket',
        'sysinit.target.wants/systemd-resolved.service',
        'dbus-org.freedesktop.resolve1.service',
        'multi-user.target.wants/machines.target',
      ],
    },
    {
      what: 'dbus-broker host keeps its dbus.service alias',
      lower: new Map([['dbus.service', '/usr/lib/systemd/system/dbus-broker.service']]),
      have: (u: string) => u === 'systemd-networkd.service',
      want: ['dbus.service', 'multi-user.target.wants/systemd-networkd.service', 'dbus-org.freedesktop.network1.service'],
    },
    { what: 'nothing installed: nothing linked', lower: new Map(), have: () => false, want: [] },
  ])('$what', ({ lower, have, want }) => {
    expect(cloneUnitLinks(lower, have).map((l) => l.path)).toEqual(want);
  });

  it('points links at the unit files, aliases at their target', () => {
    const links = cloneUnitLinks(new Map([['dbus.service', 'dbus-broker.service']]), all);
    expect(links.find((l) => l.path === 'dbus.service')?.target).toBe('dbus-broker.service');
    expect(links.find((l) => l.path === 'dbus-org.freedesktop.resolve1.service')?.target).toBe(`${L}/systemd-resolved.service`);
  });
});

describe('buildSandboxArgv', () => {
  it('boots in its own network namespace, binds the data dir and the checkout at the same path', () => {
    expect(
      buildSandboxArgv({ name: 'sb', merged: '/s/merged', data: '/s/data', checkout: '/w/main', machineId: 'ab'.repeat(16) }),
    ).toEqual([
      '-D', '/s/merged', '--boot', '--register=no', '--keep-unit', '--machine=sb', `--uuid=${'ab'.repeat(16)}`,
      '--private-network', '--console=read-only', '--bind=/s/data:/var/lib/sdme', '--bind=/w/main:/w/main',
    ]);
  });
  it('adds read-only binds and no checkout bind when none is given', () => {
    const argv = buildSandboxArgv({ name: 'sb', merged: '/m', data: '/d', roBinds: ['/usr/bin/node'], machineId: '0'.repeat(32) });
    expect(argv.filter((a) => a.startsWith('--bind'))).toEqual(['--bind=/d:/var/lib/sdme', '--bind-ro=/usr/bin/node:/usr/bin/node']);
  });
});

describe('innerEnv', () => {
  it('passes a fixed base plus CI and TERM only', () => {
    expect(innerEnv('sb', { CI: 'true', TERM: 'xterm', SECRET: 'x', PATH: '/evil' })).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOME=/root',
      'LANG=C.UTF-8',
      'SDME_SANDBOX=sb',
      'CI=true',
      'TERM=xterm',
    ]);
  });
});

describe('nsenterArgv', () => {
  it('enters all namespaces of the leader and runs through env with a clean environment and cwd', () => {
    expect(nsenterArgv(42, ['systemctl', 'poweroff'])).toEqual([
      '-t', '42', '-a', '--', '/usr/bin/env', '-i', '-C', '/',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'systemctl', 'poweroff',
    ]);
    expect(nsenterArgv(7, ['ls'], ['A=1'], '/w')).toEqual(['-t', '7', '-a', '--', '/usr/bin/env', '-i', '-C', '/w', 'A=1', 'ls']);
  });
});

describe('checkoutWrappers', () => {
  it.each([
    { what: 'neither on PATH: both wrappers', on: [] as string[], want: ['usr/local/bin/sdme', 'usr/local/bin/sdme-tui'] },
    { what: 'sdme installed: only sdme-tui', on: ['sdme'], want: ['usr/local/bin/sdme-tui'] },
    { what: 'both installed: none', on: ['sdme', 'sdme-tui'], want: [] },
  ])('$what', ({ on, want }) => {
    expect([...checkoutWrappers('/work/main', '/usr/bin/node', (c) => on.includes(c)).keys()]).toEqual(want);
  });

  it('execs node on the checkout entry point with the arguments, quoted for sh', () => {
    const w = checkoutWrappers("/src/it's here", '/opt/node/bin/node', () => false);
    expect(w.get('usr/local/bin/sdme')).toBe(`#!/bin/sh\nexec '/opt/node/bin/node' '/src/it'\\''s here/bin/sdme.js' "$@"\n`);
    expect(w.get('usr/local/bin/sdme-tui')).toBe(`#!/bin/sh\nexec '/opt/node/bin/node' '/src/it'\\''s here/bin/sdme-tui.js' "$@"\n`);
  });
});

describe('identityFiles', () => {
  it('empties machine-id and names the host', () => {
    const f = identityFiles('box1');
    expect(f['etc/machine-id']).toBe('');
    expect(f['etc/hostname']).toBe('box1\n');
    expect(f['etc/hosts']).toContain('127.0.0.1 localhost box1');
  });
});

describe('sandbox record', () => {
  const r: SandboxRecord = { name: 'sb', nspawnPid: 10, leaderPid: 12, rootfs: 'host', lower: '/', checkout: '/w m', started: 1700000000000 };
  it('round-trips', () => expect(parseRecord(serializeRecord(r))).toEqual(r));
  it.each([
    ['missing pid', serializeRecord(r).replace('NSPAWN_PID=10\n', '')],
    ['bad rootfs', serializeRecord(r).replace('ROOTFS=host', 'ROOTFS=zfs')],
    ['non-numeric pid', serializeRecord(r).replace('LEADER_PID=12', 'LEADER_PID=x')],
  ])('rejects %s', (_w, text) => expect(parseRecord(text)).toBeUndefined());
});

describe('procs', () => {
  it('parses stat with spaces and parens in comm', () => {
    expect(parseStat('123 (a (b) c) S 1 99 99 0 -1')).toEqual({ pid: 123, comm: 'a (b) c', state: 'S', ppid: 1, pgid: 99 });
  });
  it.each([
    [['/usr/bin/systemd-nspawn', '-D', '/m', '--machine=sb'], true],
    [['systemd-nspawn', '--machine', 'sb'], true],
    [['systemd-nspawn', '-M', 'sb'], true],
    [['systemd-nspawn', '--machine=sb2'], false],
    [['/usr/bin/echo', '--machine=sb'], false],
    [[], false],
  ])('isNspawnFor(%j, sb) = %s', (argv, want) => expect(isNspawnFor(argv, 'sb')).toBe(want));
});

describe('aptMirror', () => {
  it.each([
    ['deb822', ['Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n'], 'http://mirror.example/debian'],
    [
      'skips security stanza first',
      ['Types: deb\nURIs: http://sec.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://m.example/d\nSuites: bookworm\n'],
      'http://m.example/d',
    ],
    ['one-line', ['# c\ndeb [arch=amd64] http://m.example/debian bookworm main\n'], 'http://m.example/debian'],
    ['deb-src only', ['Types: deb-src\nURIs: http://src.example/\nSuites: bookworm\n'], undefined],
  ])('%s', (_w, texts, want) => expect(aptMirror(texts)).toBe(want));
});

describe('names and paths', () => {
  it.each(['sdme-sandbox', 'a', 'x1-2'])('accepts %s', (n) => expect(validateSandboxName(n)).toBe(n));
  it.each(['', 'Big', '-a', 'a-', 'a_b', 'a/b', 'x'.repeat(64)])('rejects %j', (n) =>
    expect(() => validateSandboxName(n)).toThrow(/invalid sandbox name/),
  );
  it('keeps the lock outside the state dir', () => {
    const p = sandboxPaths('sb', '/b');
    expect(p.dir).toBe('/b/sb');
    expect(p.lockFile).toBe('/b/.sb.lock');
    expect(p.merged).toBe('/b/sb/merged');
  });
});

describe('status rendering', () => {
  const up = {
    name: 'sb', state: 'running', nspawnPid: 10, leaderPid: 12, rootfs: 'host', checkout: '/w',
    systemdVersion: '252', uptimeSec: 5, dir: '/b/sb',
  };
  it('prints aligned rows', () => {
    expect(formatStatus(up)).toBe(
      ['name:     sb', 'state:    running', 'leader:   12 (systemd-nspawn 10)', 'systemd:  252', 'uptime:   5s', 'rootfs:   host', 'checkout: /w', 'dir:      /b/sb'].join('\n'),
    );
  });
  it('json uses snake_case and nulls when down', () => {
    const down = { ...up, state: 'down', nspawnPid: null, leaderPid: null, rootfs: null, checkout: null, systemdVersion: null, uptimeSec: null };
    expect(statusJson(down)).toEqual({
      name: 'sb', state: 'down', nspawn_pid: null, leader_pid: null, systemd_version: null, uptime_s: null, rootfs: null, checkout: null, dir: '/b/sb',
    });
  });
});
