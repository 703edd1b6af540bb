import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import {
  CreateFlagError,
  createFlagsToState,
  type CreateFlagsInput,
  type CreateHostFacts,
  USERNS_HOST_CLONE_MIN_SYSTEMD,
  usernsHostCloneProblem,
} from '../../src/engine/security/create-flags.js';
import { SdmeError } from '../../src/engine/errors.js';

const config = defaultConfig();
const host: CreateHostFacts = { systemdVersion: 256, pods: ['p1', 'p2'], rootfsHasOciApp: false };
const run = (flags: CreateFlagsInput, facts: Partial<CreateHostFacts> = {}) =>
  createFlagsToState(flags, config, { ...host, ...facts });

/** The flag named by the error thrown for these flags. */
function flagOf(flags: CreateFlagsInput, facts: Partial<CreateHostFacts> = {}): string {
  try {
    run(flags, facts);
  } catch (e) {
    expect(e).toBeInstanceOf(SdmeError);
    return e instanceof CreateFlagError ? e.flag : `(plain) ${(e as Error).message}`;
  }
  return '(no error)';
}

describe('createFlagsToState: defaults', () => {
  it('host clone, no flags', () => {
    const r = run({});
    expect(r.state).toEqual({
      name: '', created: 0, rootfs: '', privateNetwork: false, networkVeth: false, ports: [], binds: [], envs: [],
      opaqueDirs: ['/etc/systemd/system', '/var/log'], maskedServices: ['systemd-resolved.service'], ociVolumes: [],
      userns: false, dropCaps: [], addCaps: [], noNewPrivs: false, readOnly: false, syscallFilter: [], extra: {},
    });
    expect(r.notes).toEqual([]);
    expect(r.usernsNested).toBe(0);
  });

  it('imported rootfs: no default opaque dirs; -o replaces the default', () => {
    expect(run({ name: 'web', fs: 'debian' }).state).toMatchObject({ name: 'web', rootfs: 'debian', opaqueDirs: [] });
    expect(run({ opaqueDirs: ['/opt/,/srv', '/data'] }).state.opaqueDirs).toEqual(['/opt', '/srv', '/data']);
    expect(run({ opaqueDirs: [] }).state.opaqueDirs).toEqual(['/etc/systemd/system', '/var/log']);
    expect(createFlagsToState({}, { ...config, host_rootfs_opaque_dirs: '' }, host).state.opaqueDirs).toEqual([]);
  });
});

describe('createFlagsToState: network', () => {
  it('veth/bridge/zone/port imply private network; ports normalised', () => {
    expect(run({ networkVeth: true, ports: ['8080:80/udp'] }).state).toMatchObject({
      privateNetwork: true, networkVeth: true, ports: ['udp:8080:80'],
    });
    expect(run({ networkBridge: 'br0' }).state).toMatchObject({ privateNetwork: true, networkBridge: 'br0' });
    expect(run({ networkZone: 'lab' }).state).toMatchObject({ privateNetwork: true, networkZone: 'lab' });
  });
  it('a bridge that does not exist is refused when the caller can tell (fake host facts)', () => {
    const bridges = new Set(['br0']);
    const facts = { bridgeExists: (b: string) => bridges.has(b) };
    expect(run({ networkBridge: 'br0' }, facts).state.networkBridge).toBe('br0');
    expect(() => run({ networkBridge: 'br1' }, facts)).toThrow("bridge 'br1' does not exist on this host");
    expect(flagOf({ networkBridge: 'br1' }, facts)).toBe('--network-bridge');
    // without the fact createContainer checks it
    expect(run({ networkBridge: 'br1' }).state.networkBridge).toBe('br1');
  });
  it('the same (protocol, host port) twice is refused at create, naming the port', () => {
    expect(() => run({ networkVeth: true, ports: ['8080:80', '8080:80'] })).toThrow(/tcp host port 8080 is already forwarded/);
    expect(flagOf({ networkVeth: true, ports: ['8080:80/tcp', '8080:81'] })).toBe('--port');
    expect(run({ networkVeth: true, ports: ['8080:80', 'udp:8080:80'] }).state.ports).toEqual(['8080:80', 'udp:8080:80']);
  });
  it('a port needs an interface', () => {
    expect(() => run({ ports: ['8080:80'] })).toThrow('--port requires --network-veth, --network-bridge, or --network-zone');
    expect(() => run({ ports: ['8080:80'], privateNetwork: true })).toThrow(/--port requires/);
    expect(flagOf({ ports: ['8080:80'] })).toBe('--port');
  });
  it('resolved stays masked without an interface, is unmasked with one, explicit list wins', () => {
    expect(run({ privateNetwork: true }).state.maskedServices).toEqual(['systemd-resolved.service']);
    expect(run({ networkVeth: true }).state.maskedServices).toEqual([]);
    expect(run({ networkVeth: true, maskedServices: 'systemd-resolved.service,foo.service' }).state.maskedServices).toEqual([
      'systemd-resolved.service', 'foo.service',
    ]);
    expect(run({ maskedServices: '' }).state.maskedServices).toEqual([]);
    expect(flagOf({ maskedServices: '../x' })).toBe('--masked-services');
  });
});

describe('createFlagsToState: security', () => {
  it('--hardened forces private network, userns, nnp, config drops', () => {
    const r = run({ hardened: true });
    expect(r.state).toMatchObject({
      privateNetwork: true, userns: true, noNewPrivs: true,
      dropCaps: ['CAP_SYS_PTRACE', 'CAP_NET_RAW', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT'],
    });
  });
  it('--hardened + veth retains NET_RAW with a note', () => {
    const r = run({ hardened: true, networkVeth: true });
    expect(r.state.dropCaps).toEqual(['CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT']);
    expect(r.notes).toEqual(['note: retaining CAP_NET_RAW for DHCP on network interface']);
  });
  it('--strict sets filters and AppArmor', () => {
    const r = run({ strict: true });
    expect(r.state.syscallFilter).toEqual(['~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io']);
    expect(r.state.apparmorProfile).toBe('sdme-default');
    expect(r.state.dropCaps).toHaveLength(27);
  });
  it('errors name the flag', () => {
    expect(flagOf({ addCaps: ['foo'] })).toBe('--capability');
    expect(flagOf({ dropCaps: ['foo'] })).toBe('--drop-capability');
    expect(flagOf({ addCaps: ['net_raw'], dropCaps: ['net_raw'] })).toBe('--capability');
    expect(flagOf({ systemCallFilter: ['UPPER'] })).toBe('--system-call-filter');
    expect(flagOf({ apparmorProfile: 'a b' })).toBe('--apparmor-profile');
    expect(() => createFlagsToState({ hardened: true }, { ...config, hardened_drop_caps: 'bogus' }, host)).toThrow(
      "unknown capability 'bogus'",
    );
  });
  it('userns nested ranges: flag, config default, ignored without userns', () => {
    expect(run({ userns: true, usernsNested: '2' }).usernsNested).toBe(2);
    expect(createFlagsToState({ userns: true }, { ...config, userns_nested_ranges: 1 }, host).usernsNested).toBe(1);
    expect(run({ usernsNested: '2' }).usernsNested).toBe(0);
    expect(flagOf({ userns: true, usernsNested: '-1' })).toBe('--userns-nested');
  });
});

describe('createFlagsToState: limits, log level, restart', () => {
  it('valid values are stored verbatim', () => {
    const r = run({ memory: '2G', cpus: '0.5', cpuWeight: '200', systemdLogLevel: 'debug', restart: 'OnFailure' });
    expect(r.state).toMatchObject({
      memory: '2G', cpus: '0.5', cpuWeight: '200', systemdLogLevel: 'debug', restartPolicy: 'on-failure', restartSec: 2,
    });
    expect(run({ restart: 'never' }).state.restartPolicy).toBeUndefined();
  });
  it("--system-call-filter '' reaching the engine is refused (the CLI must pass it through)", () => {
    expect(flagOf({ systemCallFilter: [''] })).toBe('--system-call-filter');
    expect(() => run({ systemCallFilter: [''] })).toThrow(/cannot be empty/);
    expect(() => run({ systemCallFilter: ['~@debug', ''], strict: true })).toThrow(/cannot be empty/);
  });
  it('cpu weight is stored normalised; absurd cpus and memory are refused', () => {
    expect(run({ cpuWeight: '00005' }).state.cpuWeight).toBe('5');
    expect(() => run({ cpus: '99999999999999999999' })).toThrow(/^invalid --cpus '99999999999999999999': at most 1024$/);
    expect(flagOf({ cpus: '1025' })).toBe('--cpus');
    expect(flagOf({ memory: '99999999999999999999999T' })).toBe('--memory');
  });
  it.each([
    [{ memory: '2GB' }, '--memory'],
    [{ cpus: '0' }, '--cpus'],
    [{ cpuWeight: '0' }, '--cpu-weight'],
    [{ disk: '1M' }, '--disk'],
    [{ systemdLogLevel: 'loud' }, '--systemd-log-level'],
    [{ restart: 'always' }, '--restart'],
    [{ storage: 'zfs' }, '--storage'],
    [{ name: 'Bad_Name' }, '--name'],
    [{ fs: '../x' }, '--fs'],
    [{ networkBridge: 'br 0' }, '--network-bridge'],
    [{ networkZone: 'a'.repeat(13) }, '--network-zone'],
    [{ networkVeth: true, ports: ['0:80'] }, '--port'],
    [{ binds: ['rel:/a'] }, '--bind'],
    [{ envs: ['1=x'] }, '--env'],
    [{ ociEnv: ['A=b|c'] }, '--oci-env'],
    [{ opaqueDirs: ['/a', '/a/'] }, '--overlayfs-opaque-dirs'],
  ] as [CreateFlagsInput, string][])('%j -> %s', (flags, flag) => {
    expect(flagOf(flags)).toBe(flag);
  });
  it('limits are checked before security (first failure wins, lifecycle §2 order)', () => {
    expect(flagOf({ memory: 'x', addCaps: ['nope'] })).toBe('--memory');
    expect(flagOf({ addCaps: ['nope'], binds: ['x'] })).toBe('--capability');
  });
  it('refuses systemd older than 252', () => {
    expect(() => run({}, { systemdVersion: 249 })).toThrow('systemd 252 or later is required (this host has 249)');
  });
});

describe('createFlagsToState: pods', () => {
  it('--pod must exist', () => {
    expect(run({ pod: 'p1' }).state.pod).toBe('p1');
    expect(() => run({ pod: 'nope' })).toThrow("pod 'nope' not found");
    expect(flagOf({ pod: 'Bad' })).toBe('--pod');
    // without a pod list the caller checks existence itself
    expect(run({ pod: 'nope' }, { pods: undefined }).state.pod).toBe('nope');
  });
  it('--oci-pod needs private network and an OCI app rootfs', () => {
    expect(() => run({ ociPod: 'p1', fs: 'app' }, { rootfsHasOciApp: true })).toThrow('--oci-pod requires --private-network');
    expect(() => run({ ociPod: 'p1', privateNetwork: true })).toThrow('--oci-pod requires an OCI app rootfs');
    expect(() => run({ ociPod: 'p1', privateNetwork: true, fs: 'debian' }, { rootfsHasOciApp: false })).toThrow(
      '--oci-pod requires an OCI app rootfs',
    );
    const r = run({ ociPod: 'p1', hardened: true, fs: 'app' }, { rootfsHasOciApp: true });
    expect(r.state).toMatchObject({ ociPod: 'p1', privateNetwork: true });
    expect(run({ pod: 'p1', ociPod: 'p2', strict: true, fs: 'app' }, { rootfsHasOciApp: true }).state).toMatchObject({
      pod: 'p1', ociPod: 'p2',
    });
  });
});

describe('createFlagsToState: binds and userns', () => {
  it('binds parsed; userns binds are idmapped from systemd 252 on (checked on 252)', () => {
    expect(run({ binds: ['/srv/a:/a:ro'] }).state.binds).toEqual([{ host: '/srv/a', container: '/a', mode: 'ro' }]);
    expect(run({ hardened: true, binds: ['/srv/a:/a'] }, { systemdVersion: 255 }).state.userns).toBe(true);
    expect(run({ hardened: true, fs: 'deb', binds: ['/srv/a:/a'] }, { systemdVersion: 252 }).state).toMatchObject({
      userns: true, binds: [{ host: '/srv/a', container: '/a', mode: 'rw' }],
    });
    expect(
      run({ userns: true, fs: 'deb', binds: ['/dev/fuse:/dev/fuse'] }, { systemdVersion: 252, hostDevices: new Set(['/dev/fuse']) }).state.binds,
    ).toHaveLength(1);
    expect(run({ binds: ['/srv/a:/a'] }, { systemdVersion: 252 }).state.binds).toHaveLength(1);
  });
  it('paths-special-chars: expressible paths pass, a colon is refused at create', () => {
    const r = run({ binds: ['/srv/t%3Ax:/data', '/srv/with space:/mnt/a', '/srv/dol$HOME:/mnt/b', '/srv/q"x:/mnt/c', '/srv/back\\slash:/mnt/d'] });
    expect(r.state.binds.map((b) => b.host)).toEqual(['/srv/t%3Ax', '/srv/with space', '/srv/dol$HOME', '/srv/q"x', '/srv/back\\slash']);
    expect(() => run({ binds: ['/srv/a:b:/data'] })).toThrow(/invalid --bind/);
  });
});

describe('createFlagsToState: --pod and own interfaces', () => {
  it.each([
    [{ networkVeth: true }, /--pod cannot be combined with --network-veth: members use the pod's network namespace/],
    [{ networkBridge: 'br0' }, /--pod cannot be combined with --network-bridge:/],
    [{ networkZone: 'lab' }, /--pod cannot be combined with --network-zone:/],
    [{ networkVeth: true, ports: ['8080:80'] }, /--pod cannot be combined with --network-veth, --port:/],
  ])('%j with --pod is refused on --pod', (over, msg) => {
    expect(() => run({ pod: 'p1', ...over })).toThrow(msg);
    expect(flagOf({ pod: 'p1', ...over })).toBe('--pod');
  });
  it('--pod with --private-network or --hardened is fine (the pod netns replaces it)', () => {
    expect(run({ pod: 'p1', privateNetwork: true }).state).toMatchObject({ pod: 'p1', privateNetwork: true });
    expect(run({ pod: 'p1', hardened: true, fs: 'deb' }).state).toMatchObject({ pod: 'p1', userns: true });
  });
});

describe('createFlagsToState: user namespace on a host clone (systemd < 255)', () => {
  it.each([
    [{ userns: true }, '--userns'],
    [{ hardened: true }, '--hardened'],
    [{ strict: true }, '--strict'],
    [{ hardened: true, userns: true }, '--hardened'],
  ] as [CreateFlagsInput, string][])('%j on a host clone at 252 is refused at validation, on flag %s', (flags, flag) => {
    expect(flagOf(flags, { systemdVersion: 252 })).toBe(flag);
    expect(() => run(flags, { systemdVersion: 252 })).toThrow(/on a host clone needs systemd 255 or later \(this host has 252\)/);
    // fine with an imported rootfs, or on 255
    expect(run({ ...flags, fs: 'deb' }, { systemdVersion: 252 }).state.userns).toBe(true);
    expect(run(flags, { systemdVersion: 255 }).state.userns).toBe(true);
  });
  it('no user namespace on a host clone at 252 is fine', () => {
    expect(run({ noNewPrivileges: true }, { systemdVersion: 252 }).state.userns).toBe(false);
  });
});

describe('usernsHostCloneProblem', () => {
  it('refuses a user namespace on a host clone below systemd 255, names the fix', () => {
    expect(USERNS_HOST_CLONE_MIN_SYSTEMD).toBe(255);
    const msg = usernsHostCloneProblem({ rootfs: '', userns: true }, 252);
    expect(msg).toMatch(/on a host clone needs systemd 255 or later \(this host has 252\)/);
    expect(msg).toMatch(/-r ROOTFS/);
  });
  it.each([
    [{ rootfs: '', userns: true }, 255],
    [{ rootfs: '', userns: false }, 252],
    [{ rootfs: 'deb', userns: true }, 252],
  ])('%j on systemd %d is fine', (s, v) => {
    expect(usernsHostCloneProblem(s, v)).toBeUndefined();
  });
});
