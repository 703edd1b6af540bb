import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addCreateOptions, collectCreateFlags, parseTimeout } from '../../src/cli/create-flags.js';

function parse(args: string[], kind: 'create' | 'new' = 'create') {
  const cmd = addCreateOptions(new Command(kind).exitOverride().configureOutput({ writeErr: () => {} }), kind);
  let opts: Record<string, unknown> = {};
  cmd.action((...a: unknown[]) => {
    opts = (a[a.length - 1] as Command).opts();
  });
  if (kind === 'new') cmd.argument('[cmd...]');
  cmd.parse(args, { from: 'user' });
  return { flags: collectCreateFlags(opts), opts };
}

describe('create flag parsing', () => {
  it('defaults: nothing set, lists empty, config defaults left undefined', () => {
    const { flags } = parse([]);
    expect(flags).toMatchObject({
      privateNetwork: false,
      networkVeth: false,
      ports: [],
      binds: [],
      envs: [],
      userns: false,
      dropCaps: [],
      addCaps: [],
      noNewPrivileges: false,
      readOnly: false,
      hardened: false,
      strict: false,
      noOciPorts: false,
      noOciVolumes: false,
      enable: false,
    });
    expect(flags.opaqueDirs).toBeUndefined();
    expect(flags.maskedServices).toBeUndefined();
    expect(flags.name).toBeUndefined();
  });

  it('collects repeatable and comma-list flags in order', () => {
    const { flags } = parse([
      '--name', 'web-1', '-r', 'debian',
      '-p', '8080:80', '--port', 'udp:53:53',
      '-b', '/srv:/srv:ro', '-b', '/a:/b',
      '-e', 'A=1', '--env', 'B=x=y',
      '-o', '/etc/systemd/system,/var/log', '-o', '/opt',
      '--drop-capability', 'CAP_NET_RAW,sys_ptrace', '--drop-capability', 'CAP_SYS_BOOT',
      '--capability', 'CAP_NET_ADMIN',
      '--system-call-filter', '~@raw-io', '--system-call-filter', 'bpf,keyctl',
    ]);
    expect(flags.name).toBe('web-1');
    expect(flags.fs).toBe('debian');
    expect(flags.ports).toEqual(['8080:80', 'udp:53:53']);
    expect(flags.binds).toEqual(['/srv:/srv:ro', '/a:/b']);
    expect(flags.envs).toEqual(['A=1', 'B=x=y']);
    expect(flags.opaqueDirs).toEqual(['/etc/systemd/system', '/var/log', '/opt']);
    expect(flags.dropCaps).toEqual(['CAP_NET_RAW', 'sys_ptrace', 'CAP_SYS_BOOT']);
    expect(flags.addCaps).toEqual(['CAP_NET_ADMIN']);
    // kept raw (the engine splits on ',' and refuses empty items)
    expect(flags.systemCallFilter).toEqual(['~@raw-io', 'bpf,keyctl']);
  });

  it('maps the --no-X flags (commander negations) to true booleans', () => {
    const { flags } = parse(['--no-new-privileges', '--no-oci-ports', '--no-oci-volumes', '--read-only']);
    expect(flags.noNewPrivileges).toBe(true);
    expect(flags.noOciPorts).toBe(true);
    expect(flags.noOciVolumes).toBe(true);
    expect(flags.readOnly).toBe(true);
  });

  it("keeps an explicitly empty --masked-services ('' = none)", () => {
    expect(parse(['--masked-services', '']).flags.maskedServices).toBe('');
    expect(parse(['--masked-services=a.service,b.service']).flags.maskedServices).toBe('a.service,b.service');
  });

  it('network, security and limit flags', () => {
    const { flags, opts } = parse([
      '--network-zone', 'z1', '--network-bridge', 'br0', '--network-veth', '--private-network',
      '-u', '--userns-nested', '2', '--hardened', '--strict', '--apparmor-profile', 'sdme-default',
      '--systemd-log-level', 'debug', '--restart', 'OnFailure', '--memory', '2G', '--cpus', '0.5',
      '--cpu-weight', '200', '--pod', 'p1', '--oci-pod', 'p2', '--enable', '--started', '-t', '120',
    ]);
    expect(flags).toMatchObject({
      networkZone: 'z1',
      networkBridge: 'br0',
      networkVeth: true,
      privateNetwork: true,
      userns: true,
      usernsNested: '2',
      hardened: true,
      strict: true,
      apparmorProfile: 'sdme-default',
      systemdLogLevel: 'debug',
      restart: 'OnFailure',
      memory: '2G',
      cpus: '0.5',
      cpuWeight: '200',
      pod: 'p1',
      ociPod: 'p2',
      enable: true,
    });
    expect(opts.started).toBe(true);
    expect(parseTimeout(opts.timeout)).toBe(120);
  });

  it('refuses an unknown log level and --started on new', () => {
    expect(() => parse(['--systemd-log-level', 'loud'])).toThrow();
    expect(() => parse(['--started'], 'new')).toThrow();
  });

  it('new takes --user and a trailing command', () => {
    const cmd = addCreateOptions(new Command('new').exitOverride(), 'new').argument('[cmd...]');
    let got: unknown[] = [];
    cmd.action((...a: unknown[]) => {
      got = a;
    });
    cmd.parse(['--user', 'alice', '--', '/usr/bin/echo', '-n', 'hi'], { from: 'user' });
    expect(got[0]).toEqual(['/usr/bin/echo', '-n', 'hi']);
    expect((got[1] as Record<string, unknown>).user).toBe('alice');
  });

  it('parseTimeout accepts positive integers only', () => {
    expect(parseTimeout(undefined)).toBeUndefined();
    expect(parseTimeout('30')).toBe(30);
    expect(() => parseTimeout('0')).toThrow('invalid --timeout');
    expect(() => parseTimeout('1.5')).toThrow('invalid --timeout');
    expect(() => parseTimeout('-3')).toThrow('invalid --timeout');
  });
});
