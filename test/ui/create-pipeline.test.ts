import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { defaultConfig } from '../../src/engine/catalogue/config.js';
import { addCreateOptions, collectCreateFlags } from '../../src/cli/create-flags.js';
import {
  createArgs,
  createCommandLine,
  defaultFlags,
  fieldForFlag,
  parseCreateArgv,
  resolveWizardFlags,
  validateWizardFlags,
} from '../../src/state/create-flags.js';
import { isolationFromState } from '../../src/state/isolation.js';
import { usecToMs } from '../../src/state/engine-adapter.js';
import type { CreateFlags } from '../../src/state/engine-port.js';

const config = defaultConfig();
const facts = { systemdVersion: 252, pods: ['shop'] };
const wf = (over: Partial<CreateFlags>): CreateFlags => ({ ...defaultFlags('box'), ...over });

describe('wizard -> argv -> CLI parser -> createFlagsToState', () => {
  it('the preview argv is parsed by the same commander definitions the CLI registers', () => {
    const f = wf({ rootfs: 'debian', network: 'zone', zone: 'lab', preset: 'hardened', readOnly: true, dropCaps: ['sys_nice'], addCaps: ['CAP_NET_ADMIN'], memory: '2G', cpus: '1.5', cpuWeight: '200', binds: ['/srv:/srv:ro'], envs: ['A=1'], enable: true });
    const argv = createArgs(f);
    // an independent parse through a fresh CLI command object gives the same record
    const cli = addCreateOptions(new Command('create'), 'create').exitOverride();
    cli.parse(argv.slice(1), { from: 'user' });
    expect(parseCreateArgv(argv)).toEqual(collectCreateFlags(cli.opts()));
    expect(parseCreateArgv(argv)).toMatchObject({
      name: 'box', fs: 'debian', networkZone: 'lab', hardened: true, readOnly: true, dropCaps: ['sys_nice'], addCaps: ['CAP_NET_ADMIN'],
      memory: '2G', cpus: '1.5', cpuWeight: '200', binds: ['/srv:/srv:ro'], envs: ['A=1'], enable: true, userns: false,
    });
  });

  it.each([
    [{ network: 'private' as const }, { privateNetwork: true, networkVeth: false }],
    [{ network: 'veth' as const }, { privateNetwork: true, networkVeth: true }],
    [{ network: 'pod' as const, pod: 'shop' }, { privateNetwork: false, pod: 'shop' }],
    // a user namespace needs an imported rootfs on systemd < 255 (host clones are refused, below)
    [{ preset: 'hardened' as const, rootfs: 'debian' }, { privateNetwork: true, userns: true, noNewPrivs: true }],
    [{ userns: true, noNewPrivileges: true, rootfs: 'debian' }, { userns: true, noNewPrivs: true, privateNetwork: false }],
    [{ preset: 'strict' as const, rootfs: 'debian' }, { apparmorProfile: 'sdme-default', syscallFilter: ['~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io'] }],
  ])('flags %j resolve to state %j', (over, want) => {
    const { resolution } = resolveWizardFlags(wf(over), config, facts);
    expect(resolution.state).toMatchObject({ name: 'box', ...want });
  });

  it.each([
    [{ memory: '12X' }, 'memory', /invalid --memory '12X'/],
    [{ cpus: '0' }, 'cpus', /--cpus/],
    [{ cpuWeight: '99999' }, 'cpuWeight', /cpu-weight|cpu weight/i],
    [{ network: 'zone' as const, zone: 'bad zone!' }, 'zone', /zone/],
    [{ network: 'pod' as const, pod: 'nope' }, 'pod', /pod 'nope' not found/],
    [{ addCaps: ['CAP_NOT_A_CAP'] }, 'addCaps', /CAP_NOT_A_CAP/],
    [{ dropCaps: ['FOO'] }, 'dropCaps', /FOO/],
    [{ binds: ['relative:/x'] }, 'binds', /bind/i],
    [{ envs: ['1BAD=x'] }, 'envs', /env/i],
    [{ name: 'Bad_Name' }, 'name', /invalid container name/],
    [{ preset: 'hardened' as const }, 'preset', /on a host clone needs systemd 255 or later \(this host has 252\)/],
    [{ preset: 'strict' as const }, 'preset', /on a host clone needs systemd 255 or later/],
    [{ userns: true }, 'userns', /--userns\/--hardened\/--strict\) on a host clone needs systemd 255/],
    [{ network: 'bridge' as const, bridge: '' }, 'bridge', /bridge/],
  ])('%j is refused on field %s', (over, field, msg) => {
    const v = validateWizardFlags(wf(over), config, facts);
    expect(v.isolation).toBeNull();
    expect(v.errors).toHaveLength(1);
    expect(v.errors[0]!.field).toBe(field);
    expect(v.errors[0]!.message).toMatch(msg);
  });

  it('--network-bridge: a bridge the host lacks is refused on the bridge field, an existing one resolves', () => {
    const hostFacts = { ...facts, bridgeExists: (b: string) => b === 'br0' };
    const bad = validateWizardFlags(wf({ network: 'bridge', bridge: 'br9' }), config, hostFacts);
    expect(bad.errors).toEqual([{ field: 'bridge', message: "bridge 'br9' does not exist on this host" }]);
    expect(createArgs(wf({ network: 'bridge', bridge: 'br9' }))).toEqual(['create', '--name', 'box', '--network-bridge', 'br9']);
    const ok = validateWizardFlags(wf({ network: 'bridge', bridge: 'br0' }), config, hostFacts);
    expect(ok.errors).toEqual([]);
    expect(ok.resolution!.state).toMatchObject({ networkBridge: 'br0', privateNetwork: true });
  });

  it('a systemd older than 252 is a general error', () => {
    const v = validateWizardFlags(wf({}), config, { systemdVersion: 249 });
    expect(v.errors).toEqual([{ field: 'general', message: 'systemd 252 or later is required (this host has 249)' }]);
  });

  it('caller-side problems are appended to engine errors', () => {
    const v = validateWizardFlags(wf({}), config, facts, [{ field: 'name', message: "container 'box' already exists" }]);
    expect(v.errors).toEqual([{ field: 'name', message: "container 'box' already exists" }]);
    expect(v.isolation).not.toBeNull();
  });

  it('maps flags to fields, unknown ones to general', () => {
    expect(fieldForFlag('--strict')).toBe('preset');
    expect(fieldForFlag('--oci-pod')).toBe('general');
  });

  it('quotes values for the shell in the preview', () => {
    expect(createCommandLine(wf({ envs: ["MSG=it's"] }), true)).toBe(`sdme create --name box -e 'MSG=it'\\''s' --started`);
  });
});

describe('isolation preview from the resolved state', () => {
  const iso = (over: Partial<CreateFlags>) => isolationFromState(resolveWizardFlags(wf(over), config, facts).resolution.state);

  it('host network: nspawn default 26 caps, nothing else', () => {
    const f = iso({});
    expect(f.caps).toHaveLength(26);
    expect(f.caps).not.toContain('CAP_NET_ADMIN');
    expect(f).toMatchObject({ network: 'host', userns: false, noNewPrivs: false, readOnly: false, apparmor: null });
  });

  it('private network adds NET_ADMIN (27); a pod does not', () => {
    expect(iso({ network: 'private' }).caps).toHaveLength(27);
    expect(iso({ network: 'pod', pod: 'shop' }).caps).toHaveLength(26);
  });

  it('hardened drops PTRACE, NET_RAW, BOOT (24); with veth NET_RAW stays for DHCP (25)', () => {
    const h = iso({ preset: 'hardened', rootfs: 'debian' });
    expect(h.caps).toHaveLength(24);
    for (const c of ['CAP_SYS_PTRACE', 'CAP_NET_RAW', 'CAP_SYS_BOOT']) expect(h.caps).not.toContain(c);
    expect(h.network).toBe('private');
    expect(iso({ preset: 'hardened', rootfs: 'debian', network: 'veth' }).caps).toContain('CAP_NET_RAW');
    expect(iso({ preset: 'hardened', rootfs: 'debian', network: 'veth' }).caps).toHaveLength(25);
  });

  it('strict keeps 14 caps, seccomp filters and the AppArmor profile', () => {
    const s = iso({ preset: 'strict', rootfs: 'debian' });
    expect(s.caps).toHaveLength(14);
    expect(s.caps).toContain('CAP_SYS_ADMIN');
    expect(s.apparmor).toBe('sdme-default');
    expect(s.syscallFilter).toHaveLength(4);
  });

  it('--capability adds, --drop-capability removes', () => {
    const f = iso({ addCaps: ['SYS_TIME'], dropCaps: ['SYS_ADMIN'] });
    expect(f.caps).toContain('CAP_SYS_TIME');
    expect(f.caps).not.toContain('CAP_SYS_ADMIN');
    expect(f.caps).toHaveLength(26);
  });
});

describe('usecToMs (ActiveEnterTimestamp)', () => {
  it('bigint and number usec to ms; 0 and junk to null', () => {
    expect(usecToMs(1_700_000_000_123_456n)).toBe(1_700_000_000_123);
    expect(usecToMs(2_000_000)).toBe(2000);
    expect(usecToMs(0n)).toBeNull();
    expect(usecToMs(undefined)).toBeNull();
  });
});
