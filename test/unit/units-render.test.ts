import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, which } from '../../src/native/run.js';
import { buildNspawnPlan, type NspawnPlan } from '../../src/engine/nspawn/argv.js';
import {
  escapeSpecifiers,
  escapeUnitValue,
  quoteExecArg,
  renderLimitsDropin,
  renderNspawnDropin,
  renderTemplate,
  unitInstanceName,
} from '../../src/engine/systemd/units.js';
import type { ContainerState } from '../../src/engine/types.js';
import { emptyState } from '../../src/engine/catalogue/container-state.js';

const BIN = { nspawn: '/usr/bin/systemd-nspawn', mount: '/usr/bin/mount', umount: '/usr/bin/umount', nsenter: '/usr/bin/nsenter' };

function st(over: Partial<ContainerState> = {}): ContainerState {
  return { ...emptyState('web', 1), rootfs: 'debian', ...over };
}

describe('escaping', () => {
  it('escapeUnitValue doubles % and $ only', () => {
    expect(escapeUnitValue('a%b$c%%')).toBe('a%%b$$c%%%%');
    expect(escapeUnitValue('plain/path-1')).toBe('plain/path-1');
    expect(escapeSpecifiers('a%b$c')).toBe('a%%b$c');
  });

  const table: [string, string][] = [
    ['--machine=web', '--machine=web'],
    ['--bind=/srv/t%3Ax:/data', '--bind=/srv/t%%3Ax:/data'],
    ['--bind=/srv/dol$HOME:/b', '--bind=/srv/dol$$HOME:/b'],
    ['--bind=/srv/with space:/a', '"--bind=/srv/with space:/a"'],
    ['a\tb', '"a\tb"'],
    ['q"x', '"q\\"x"'],
    ['back\\slash', '"back\\\\slash"'],
    ["it's", '"it\'s"'],
    ['', '""'],
    ['#notcomment', '"#notcomment"'],
    [';', '";"'],
    ['line\nbreak', '"line\\nbreak"'],
    ['sp ace%$', '"sp ace%%$$"'],
  ];
  it.each(table)('quoteExecArg(%j) = %j', (input, want) => {
    expect(quoteExecArg(input)).toBe(want);
  });
});

describe('unitInstanceName', () => {
  it('uses the literal name, no systemd-escape', () => {
    expect(unitInstanceName('deb-template')).toBe('sdme@deb-template.service');
    expect(unitInstanceName('a-b-c')).toBe('sdme@a-b-c.service');
    expect(unitInstanceName('a--b')).toBe('sdme@a--b.service');
    expect(unitInstanceName('deb-template')).not.toContain('\\x2d');
  });
  it('refuses names outside [a-z0-9-]', () => {
    for (const bad of ['', 'a/b', 'a..b', 'Web', 'a b', 'a'.repeat(65), '-a', 'x-']) {
      expect(() => unitInstanceName(bad)).toThrow(/invalid container name/);
    }
  });
});

describe('renderTemplate', () => {
  const base = (delegate: string) =>
    [
      '[Unit]',
      'Description=sdme container %i',
      'After=network.target local-fs.target systemd-machined.service dbus.service',
      'Wants=systemd-machined.service',
      '',
      '[Service]',
      'Type=notify',
      'RestartForceExitStatus=133',
      'SuccessExitStatus=133',
      'ExecStart=/bin/false',
      'KillMode=mixed',
      'Slice=machine.slice',
      'Delegate=yes',
      ...delegate.split('\n').filter(Boolean),
      'TasksMax=4096',
      'DevicePolicy=closed',
      'DeviceAllow=/dev/net/tun rwm',
      'DeviceAllow=char-pts rw',
      'TimeoutStartSec=150s',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
  it('systemd 252: no DelegateSubgroup', () => {
    expect(renderTemplate({ tasksMax: 4096, bootTimeout: 120, systemdVersion: 252 })).toBe(base(''));
  });
  it('systemd 256: DelegateSubgroup=supervisor', () => {
    expect(renderTemplate({ tasksMax: 4096, bootTimeout: 120, systemdVersion: 256 })).toBe(base('DelegateSubgroup=supervisor'));
  });
  it('rejects non-integer numbers', () => {
    expect(() => renderTemplate({ tasksMax: 0, bootTimeout: 60, systemdVersion: 252 })).toThrow();
    expect(() => renderTemplate({ tasksMax: 10, bootTimeout: 1.5, systemdVersion: 252 })).toThrow();
  });
});

describe('renderLimitsDropin', () => {
  it('undefined when nothing is set', () => {
    expect(renderLimitsDropin({})).toBeUndefined();
    expect(renderLimitsDropin(st())).toBeUndefined();
  });
  it('memory sets MemoryMax and MemorySwapMax; CPUQuota rounds and keeps a single %', () => {
    expect(renderLimitsDropin({ memory: '2G', cpus: '0.333', cpuWeight: '250' })).toBe(
      '[Service]\nMemoryMax=2G\nMemorySwapMax=2G\nCPUQuota=33%\nCPUWeight=250\n',
    );
    expect(renderLimitsDropin({ cpus: '2' })).toBe('[Service]\nCPUQuota=200%\n');
  });
  it('refuses hand-edited garbage', () => {
    expect(() => renderLimitsDropin({ memory: '1G\nExecStart=/bin/sh' })).toThrow(/invalid --memory/);
    expect(() => renderLimitsDropin({ cpuWeight: '0' })).toThrow(/invalid --cpu-weight/);
  });
});

describe('renderNspawnDropin', () => {
  const env = { datadir: '/var/lib/sdme', binaries: BIN, hostSubmounts: [], systemdVersion: 256 };

  it('minimal imported rootfs', () => {
    expect(renderNspawnDropin(buildNspawnPlan(st(), env))).toBe(
      [
        '[Service]',
        'ExecStart=',
        'ExecStartPre=/usr/bin/mount -t overlay overlay -o lowerdir=/var/lib/sdme/fs/debian,upperdir=/var/lib/sdme/containers/web/upper,workdir=/var/lib/sdme/containers/web/work /var/lib/sdme/containers/web/merged',
        'ExecStart=/usr/bin/systemd-nspawn \\',
        '    --directory=/var/lib/sdme/containers/web/merged \\',
        '    --machine=web \\',
        '    --keep-unit \\',
        '    --resolv-conf=auto \\',
        '    --boot',
        'ExecStopPost=-/usr/bin/umount /var/lib/sdme/containers/web/merged',
        '',
      ].join('\n'),
    );
  });

  it('host clone in a pod with directives, submount and special-char paths', () => {
    const s = st({
      name: 'deb-template',
      rootfs: '',
      pod: 'p1',
      userns: true,
      systemdLogLevel: 'info',
      restartPolicy: 'on-failure',
      restartSec: 2,
      binds: [{ host: '/srv/t%3Ax', container: '/data', mode: 'ro' }, { host: '/srv/back\\sl ash', container: '/b', mode: 'rw' }],
      envs: ['HOME_DIR=$HOME'],
    });
    const text = renderNspawnDropin(buildNspawnPlan(s, { ...env, datadir: '/var/lib/sd%me', hostSubmounts: ['home'] }));
    expect(text).toBe(
      [
        '[Service]',
        'Environment=SYSTEMD_LOG_LEVEL=info',
        'Restart=on-failure',
        'RestartSec=2s',
        'ExecStart=',
        'ExecStartPre=/usr/bin/mount -t overlay overlay -o lowerdir=/,upperdir=/var/lib/sd%%me/containers/deb-template/upper,workdir=/var/lib/sd%%me/containers/deb-template/work /var/lib/sd%%me/containers/deb-template/merged',
        'ExecStartPre=-/usr/bin/mount -t overlay overlay -o lowerdir=/home,upperdir=/var/lib/sd%%me/containers/deb-template/submounts/home/upper,workdir=/var/lib/sd%%me/containers/deb-template/submounts/home/work /var/lib/sd%%me/containers/deb-template/merged/home',
        'ExecStart=/usr/bin/nsenter \\',
        '    --net=/run/sdme/pods/p1/netns \\',
        '    -- \\',
        '    /usr/bin/systemd-nspawn \\',
        '    --directory=/var/lib/sd%%me/containers/deb-template/merged \\',
        '    --machine=deb-template \\',
        '    --keep-unit \\',
        '    --resolv-conf=auto \\',
        '    --bind-ro=/srv/t%%3Ax:/data:idmap \\',
        '    "--bind=/srv/back\\\\\\\\sl ash:/b:idmap" \\',
        '    --setenv=HOME_DIR=$$HOME \\',
        '    --private-users=pick \\',
        '    --private-users-ownership=auto \\',
        '    --boot',
        'ExecStopPost=-/usr/bin/umount /var/lib/sd%%me/containers/deb-template/merged/home',
        'ExecStopPost=-/usr/bin/umount /var/lib/sd%%me/containers/deb-template/merged',
        '',
      ].join('\n'),
    );
    expect(text).not.toMatch(/%[iI]/);
  });

  it('renders a plan it is given (pure over the plan)', () => {
    const plan: NspawnPlan = {
      serviceDirectives: [{ key: 'AppArmorProfile', value: 'p%x' }],
      execStartPre: [],
      execStart: ['/bin/true'],
      execStopPost: [],
      notes: [],
    };
    expect(renderNspawnDropin(plan)).toBe('[Service]\nAppArmorProfile=p%%x\nExecStart=\nExecStart=/bin/true\n');
  });
});

// systemd itself parses what we wrote: no warnings, and the command lines it loaded
// carry the exact bytes (specifiers resolved once, $$ kept for exec-time expansion).
const analyze = which('systemd-analyze');
describe.skipIf(!analyze)('systemd-analyze verify (real systemd parser)', () => {
  it('template + drop-ins with special characters load cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdme-units-'));
    try {
      const s = st({
        name: 'deb-template',
        rootfs: '',
        privateNetwork: true,
        networkVeth: true,
        ports: ['8080:80/udp'],
        memory: '1G',
        cpus: '0.5',
        apparmorProfile: 'sdme-default',
        binds: [
          { host: '/srv/t%3Ax', container: '/data', mode: 'rw' },
          { host: '/srv/with space', container: '/mnt/a', mode: 'ro' },
          { host: '/srv/dol$HOME', container: '/mnt/b', mode: 'rw' },
          { host: '/srv/q"x', container: '/mnt/c', mode: 'rw' },
          { host: '/srv/back\\slash', container: '/mnt/d', mode: 'rw' },
        ],
      });
      const plan = buildNspawnPlan(s, { ...env(), hostSubmounts: ['home'] });
      writeFileSync(join(dir, 'sdme@.service'), renderTemplate({ tasksMax: 16384, bootTimeout: 60, systemdVersion: 252 }));
      mkdirSync(join(dir, 'sdme@deb-template.service.d'));
      writeFileSync(join(dir, 'sdme@deb-template.service.d', 'nspawn.conf'), renderNspawnDropin(plan));
      writeFileSync(join(dir, 'sdme@deb-template.service.d', 'limits.conf'), renderLimitsDropin(s)!);
      const r = await run(analyze!, ['verify', '--man=no', join(dir, 'sdme@deb-template.service')], {
        timeoutMs: 30_000,
        env: { SYSTEMD_LOG_LEVEL: 'debug' },
      });
      const out = `${r.stdout}\n${r.stderr}`;
      const ours = out.split('\n').filter((l) => l.includes(dir) && /warn|ignor|invalid|unknown|fail/i.test(l));
      expect(ours).toEqual([]);
      expect(out).toContain('Instance: deb-template');
      expect(out).toContain('Description: sdme container deb-template');
      expect(out).toContain('AppArmorProfile: sdme-default');
      expect(out).toContain('CPUQuotaPerSecSec: 500ms');
      // `%%` collapsed to `%` once; `$$` is kept until exec time (systemd prints it escaped as \$\$)
      expect(out).toContain('--bind=/srv/t%3Ax:/data');
      expect(out).toContain('--bind=/srv/dol\\$\\$HOME:/mnt/b');
      expect(out).toContain('"--bind-ro=/srv/with space:/mnt/a"');
      expect(out).toContain('--port=udp:8080:80');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  function env() {
    return { datadir: '/var/lib/sdme', binaries: BIN, hostSubmounts: [] as string[], systemdVersion: 252 };
  }
});
