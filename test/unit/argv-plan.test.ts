import { describe, expect, it } from 'vitest';
import { IDMAP_BIND_MIN_SYSTEMD, buildNspawnPlan, escapeBindPath, type NspawnEnv } from '../../src/engine/nspawn/argv.js';
import { SdmeError } from '../../src/engine/errors.js';
import type { ContainerState } from '../../src/engine/types.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';

const BIN = { nspawn: '/usr/bin/systemd-nspawn', mount: '/usr/bin/mount', umount: '/usr/bin/umount', nsenter: '/usr/bin/nsenter' };
const D = '/var/lib/sdme';

function st(over: Partial<ContainerState> = {}): ContainerState {
  return { ...emptyState('web', 1700000000), rootfs: 'debian', ...over };
}

function env(over: Partial<NspawnEnv> = {}): NspawnEnv {
  return { datadir: D, binaries: BIN, hostSubmounts: [], systemdVersion: 256, ...over };
}

/** The ARGS part of ExecStart: between --keep-unit and --boot. */
function args(s: ContainerState, e: NspawnEnv = env()): string[] {
  const x = buildNspawnPlan(s, e).execStart;
  expect(x.at(-1)).toBe('--boot');
  return x.slice(x.indexOf('--keep-unit') + 1, -1);
}

describe('buildNspawnPlan: fixed parts', () => {
  it('imported rootfs: one overlay from fs/ROOTFS, ExecStart head, one umount', () => {
    const p = buildNspawnPlan(st(), env());
    expect(p.execStartPre).toEqual([
      {
        argv: [BIN.mount, '-t', 'overlay', 'overlay', '-o',
          `lowerdir=${D}/fs/debian,upperdir=${D}/containers/web/upper,workdir=${D}/containers/web/work`,
          `${D}/containers/web/merged`],
        ignoreFailure: false,
      },
    ]);
    expect(p.execStart.slice(0, 4)).toEqual([BIN.nspawn, `--directory=${D}/containers/web/merged`, '--machine=web', '--keep-unit']);
    expect(p.execStopPost).toEqual([{ argv: [BIN.umount, `${D}/containers/web/merged`], ignoreFailure: true }]);
    expect(p.serviceDirectives).toEqual([]);
  });

  it('host clone: lowerdir / and per-submount overlays shallowest first, umounts deepest first', () => {
    const p = buildNspawnPlan(st({ rootfs: '' }), env({ hostSubmounts: ['data/deep', 'home', '/srv/'] }));
    expect(p.execStartPre.map((l) => [l.argv[5], l.argv[6], l.ignoreFailure])).toEqual([
      [`lowerdir=/,upperdir=${D}/containers/web/upper,workdir=${D}/containers/web/work`, `${D}/containers/web/merged`, false],
      [`lowerdir=/home,upperdir=${D}/containers/web/submounts/home/upper,workdir=${D}/containers/web/submounts/home/work`, `${D}/containers/web/merged/home`, true],
      [`lowerdir=/srv,upperdir=${D}/containers/web/submounts/srv/upper,workdir=${D}/containers/web/submounts/srv/work`, `${D}/containers/web/merged/srv`, true],
      [`lowerdir=/data/deep,upperdir=${D}/containers/web/submounts/data/deep/upper,workdir=${D}/containers/web/submounts/data/deep/work`, `${D}/containers/web/merged/data/deep`, true],
    ]);
    expect(p.execStopPost.map((l) => l.argv[1])).toEqual([
      `${D}/containers/web/merged/data/deep`,
      `${D}/containers/web/merged/srv`,
      `${D}/containers/web/merged/home`,
      `${D}/containers/web/merged`,
    ]);
  });

  it('submounts are ignored for imported rootfs', () => {
    expect(buildNspawnPlan(st(), env({ hostSubmounts: ['home'] })).execStartPre).toHaveLength(1);
  });

  it('hyphenated names are passed literally (names-hyphens)', () => {
    for (const name of ['deb-template', 'a-b-c', 'web-1', 'x--y', `a${'-b'.repeat(31)}c`]) {
      const p = buildNspawnPlan(st({ name }), env());
      expect(p.execStart).toContain(`--machine=${name}`);
      expect(p.execStart.join(' ')).not.toMatch(/%[iI]|\\x2d/);
    }
  });

  it('refuses invalid names and rootfs names read from state', () => {
    for (const name of ['', 'a/b', 'A', '..', 'x-', 'a'.repeat(65)]) {
      expect(() => buildNspawnPlan(st({ name }), env())).toThrow(SdmeError);
    }
    expect(() => buildNspawnPlan(st({ rootfs: '../etc' }), env())).toThrow(/invalid rootfs name/);
  });

  it('refuses data dirs that overlay options would split', () => {
    for (const dd of ['/var/lib/a,b', '/var/lib/a:b', '/var/lib/a\\b']) {
      expect(() => buildNspawnPlan(st(), env({ datadir: dd }))).toThrow(/^path cannot be used in overlay mount options: /);
    }
    // a host submount with such a path is skipped with a note, not fatal
    const p = buildNspawnPlan(st({ rootfs: '' }), env({ hostSubmounts: ['srv/a:b', 'home'] }));
    expect(p.execStartPre.map((l) => l.argv[6])).toEqual([`${D}/containers/web/merged`, `${D}/containers/web/merged/home`]);
    expect(p.notes[0]).toMatch(/host submount \/srv\/a:b skipped/);
  });
});

describe('buildNspawnPlan: each flag alone', () => {
  const cases: [string, Partial<ContainerState>, string[]][] = [
    ['nothing', {}, ['--resolv-conf=auto']],
    ['private network', { privateNetwork: true }, ['--private-network', '--resolv-conf=auto']],
    ['veth', { privateNetwork: true, networkVeth: true }, ['--private-network', '--resolv-conf=auto', '--network-veth']],
    ['bridge', { privateNetwork: true, networkBridge: 'br0' }, ['--private-network', '--resolv-conf=auto', '--network-bridge=br0']],
    ['zone', { privateNetwork: true, networkZone: 'lab' }, ['--private-network', '--resolv-conf=auto', '--network-zone=lab']],
    ['bind rw', { binds: [{ host: '/srv/a', container: '/a', mode: 'rw' }] }, ['--resolv-conf=auto', '--bind=/srv/a:/a']],
    ['bind ro', { binds: [{ host: '/srv/a', container: '/a', mode: 'ro' }] }, ['--resolv-conf=auto', '--bind-ro=/srv/a:/a']],
    ['env', { envs: ['A=1', 'B=x=y'] }, ['--resolv-conf=auto', '--setenv=A=1', '--setenv=B=x=y']],
    ['oci-pod', { ociPod: 'p1', privateNetwork: true }, ['--private-network', '--resolv-conf=auto', '--bind-ro=/run/sdme/pods/p1/netns:/run/sdme/oci-pod-netns']],
    ['userns pick', { userns: true }, ['--resolv-conf=auto', '--private-users=pick', '--private-users-ownership=auto']],
    ['userns explicit 64K', { userns: true, usernsShift: 0x80000, usernsRange: 65536 }, ['--resolv-conf=auto', '--private-users=524288:65536', '--private-users-ownership=auto']],
    ['userns explicit larger range (overlay)', { userns: true, usernsShift: 0x80000, usernsRange: 131072 }, ['--resolv-conf=auto', '--private-users=524288:131072', '--private-users-ownership=off']],
    ['drop caps', { dropCaps: ['CAP_SYS_PTRACE', 'CAP_NET_RAW'] }, ['--resolv-conf=auto', '--drop-capability=CAP_SYS_PTRACE', '--drop-capability=CAP_NET_RAW']],
    ['add caps', { addCaps: ['CAP_NET_ADMIN'] }, ['--resolv-conf=auto', '--capability=CAP_NET_ADMIN']],
    ['no new privs', { noNewPrivs: true }, ['--resolv-conf=auto', '--no-new-privileges=yes']],
    ['read-only', { readOnly: true }, ['--resolv-conf=auto', '--read-only']],
    ['filters', { syscallFilter: ['~@debug', 'ptrace'] }, ['--resolv-conf=auto', '--system-call-filter=~@debug', '--system-call-filter=ptrace']],
  ];
  it.each(cases)('%s', (_n, over, want) => {
    expect(args(st(over))).toEqual(want);
  });

  it('ports (normalised to nspawn syntax) follow the network flags', () => {
    expect(args(st({ privateNetwork: true, networkVeth: true, ports: ['8080:80', '53:53/udp', 'tcp:443'] }))).toEqual([
      '--private-network', '--resolv-conf=auto', '--network-veth', '--port=8080:80', '--port=udp:53:53', '--port=tcp:443',
    ]);
  });

  it('a state with a duplicate (protocol, host port) is refused before nspawn would fail at boot', () => {
    expect(() => args(st({ privateNetwork: true, networkVeth: true, ports: ['8080:80', 'tcp:8080:81'] }))).toThrow(
      /tcp host port 8080 is already forwarded by '8080:80'/,
    );
  });

  it('explicit userns base is relative to the userns sdme runs in', () => {
    expect(args(st({ userns: true, usernsShift: 0x90000 }), env({ usernsBase: 0x10000 }))).toContain('--private-users=524288:65536');
  });

  it('service directives in order: log level, AppArmor, restart', () => {
    const p = buildNspawnPlan(
      st({ restartPolicy: 'on-failure', restartSec: 5, apparmorProfile: 'sdme-default', systemdLogLevel: 'debug' }),
      env(),
    );
    expect(p.serviceDirectives).toEqual([
      { key: 'Environment', value: 'SYSTEMD_LOG_LEVEL=debug' },
      { key: 'AppArmorProfile', value: 'sdme-default' },
      { key: 'Restart', value: 'on-failure' },
      { key: 'RestartSec', value: '5s' },
    ]);
  });

  it('re-validates injected values read from state', () => {
    expect(() => buildNspawnPlan(st({ systemdLogLevel: 'debug\nExecStart=/bin/sh' }), env())).toThrow(SdmeError);
    expect(() => buildNspawnPlan(st({ apparmorProfile: 'x y' }), env())).toThrow(SdmeError);
    expect(() => buildNspawnPlan(st({ syscallFilter: ['@x y'] }), env())).toThrow(SdmeError);
    expect(() => buildNspawnPlan(st({ dropCaps: ['CAP_NOPE'] }), env())).toThrow("unknown capability 'CAP_NOPE'");
    expect(() => buildNspawnPlan(st({ envs: ['1A=x'] }), env())).toThrow(SdmeError);
    expect(() => buildNspawnPlan(st({ binds: [{ host: 'rel', container: '/a', mode: 'rw' }] }), env())).toThrow(SdmeError);
  });
});

describe('buildNspawnPlan: combinations', () => {
  it('hardened + overrides: group order network, binds, setenv, security', () => {
    const s = st({
      privateNetwork: true,
      userns: true,
      noNewPrivs: true,
      dropCaps: ['CAP_SYS_RAWIO', 'CAP_SYS_PTRACE', 'CAP_NET_RAW', 'CAP_SYS_BOOT'],
      addCaps: ['CAP_NET_ADMIN'],
      binds: [{ host: '/dev/fuse', container: '/dev/fuse', mode: 'rw' }, { host: '/srv/d', container: '/d', mode: 'ro' }],
      envs: ['TZ=UTC'],
    });
    expect(args(s, env({ hostDevices: new Set(['/dev/fuse']) }))).toEqual([
      '--private-network', '--resolv-conf=auto',
      '--bind=/dev/fuse:/dev/fuse', '--bind-ro=/srv/d:/d:idmap',
      '--setenv=TZ=UTC',
      '--private-users=pick', '--private-users-ownership=auto',
      '--drop-capability=CAP_SYS_RAWIO', '--drop-capability=CAP_SYS_PTRACE', '--drop-capability=CAP_NET_RAW', '--drop-capability=CAP_SYS_BOOT',
      '--capability=CAP_NET_ADMIN', '--no-new-privileges=yes',
    ]);
  });

  it('strict: filters, read-only and AppArmor', () => {
    const p = buildNspawnPlan(
      st({ privateNetwork: true, userns: true, noNewPrivs: true, readOnly: true, dropCaps: ['CAP_BPF'],
        syscallFilter: ['~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io'], apparmorProfile: 'sdme-default' }),
      env(),
    );
    const a = p.execStart.slice(p.execStart.indexOf('--keep-unit') + 1, -1);
    expect(a.slice(-7)).toEqual([
      '--drop-capability=CAP_BPF', '--no-new-privileges=yes', '--read-only',
      '--system-call-filter=~@cpu-emulation', '--system-call-filter=~@debug', '--system-call-filter=~@obsolete', '--system-call-filter=~@raw-io',
    ]);
    expect(p.serviceDirectives).toEqual([{ key: 'AppArmorProfile', value: 'sdme-default' }]);
  });

  it('userns + binds: :idmap appended from systemd 252 (checked on 252), refused below with a clear message', () => {
    expect(IDMAP_BIND_MIN_SYSTEMD).toBe(252);
    const s = st({ userns: true, binds: [{ host: '/srv/a', container: '/a', mode: 'rw' }] });
    expect(args(s, env({ systemdVersion: 252 }))).toContain('--bind=/srv/a:/a:idmap');
    expect(args(st({ binds: s.binds }), env({ systemdVersion: 252 }))).toContain('--bind=/srv/a:/a');
    expect(() => args(s, env({ systemdVersion: 251 }))).toThrow(/binds in a user namespace need idmapped bind mounts \(systemd 252 or later; this host has 251\)/);
    // a device bind is never idmapped, so it is fine below the minimum
    const dev = st({ userns: true, binds: [{ host: '/dev/kvm', container: '/dev/kvm', mode: 'rw' }] });
    expect(args(dev, env({ systemdVersion: 251, hostDevices: new Set(['/dev/kvm']) }))).toContain('--bind=/dev/kvm:/dev/kvm');
  });

  it('pod + private network: nsenter prefix, no --private-network, resolv-conf off only with pod DNS', () => {
    const s = st({ pod: 'p1', privateNetwork: true });
    const p = buildNspawnPlan(s, env());
    expect(p.execStart.slice(0, 4)).toEqual([BIN.nsenter, '--net=/run/sdme/pods/p1/netns', '--', BIN.nspawn]);
    expect(args(s)).toEqual(['--resolv-conf=auto']);
    expect(args(s, env({ podDns: true }))).toEqual(['--resolv-conf=off']);
    // podDns without --pod changes nothing
    expect(args(st({ privateNetwork: true }), env({ podDns: true }))).toEqual(['--private-network', '--resolv-conf=auto']);
  });

  it('pod + userns: nsenter happens before nspawn creates the userns', () => {
    const x = buildNspawnPlan(st({ pod: 'p1', userns: true }), env()).execStart;
    expect(x.indexOf(BIN.nsenter)).toBe(0);
    expect(x.indexOf('--private-users=pick')).toBeGreaterThan(x.indexOf(BIN.nspawn));
  });

  it('pod + oci-pod together', () => {
    const a = args(st({ pod: 'p1', ociPod: 'p2', privateNetwork: true }));
    expect(a).toEqual(['--resolv-conf=auto', '--bind-ro=/run/sdme/pods/p2/netns:/run/sdme/oci-pod-netns']);
  });

  it('ports + zone', () => {
    expect(args(st({ privateNetwork: true, networkZone: 'lab', ports: ['tcp:8080:80'] }))).toEqual([
      '--private-network', '--resolv-conf=auto', '--network-zone=lab', '--port=tcp:8080:80',
    ]);
  });

  it('special characters in bind paths (paths-special-chars)', () => {
    const b = (host: string, container: string) => ({ host, container, mode: 'rw' as const });
    const a = args(st({ binds: [
      b('/srv/t%3Ax', '/data'), b('/srv/with space', '/mnt/a'), b('/srv/dol$HOME', '/mnt/b'),
      b('/srv/q"x', '/mnt/c'), b('/srv/back\\slash', '/mnt/d'),
    ] }));
    // argv level: only nspawn's own escaping (backslash, colon); unit escaping happens in units.ts
    expect(a.slice(1)).toEqual([
      '--bind=/srv/t%3Ax:/data', '--bind=/srv/with space:/mnt/a', '--bind=/srv/dol$HOME:/mnt/b',
      '--bind=/srv/q"x:/mnt/c', '--bind=/srv/back\\\\slash:/mnt/d',
    ]);
  });

  it('escapeBindPath escapes what nspawn splits on', () => {
    expect(escapeBindPath('/a:b\\c')).toBe('/a\\:b\\\\c');
    expect(escapeBindPath('/plain path')).toBe('/plain path');
  });
});
