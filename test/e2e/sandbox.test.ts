/**
 * E2E: the sandbox host itself is what the rest of the suite expects - booted
 * systemd, its own network namespace with networkd, machined, a real-fs
 * /var/lib/sdme, the checkout bound, nested nspawn working - and the helpers work.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/native/run.js';
import { CHECKOUT, DATADIR, inSandbox, sdme, uniqueName, waitFor } from './helpers.js';

interface Mount {
  point: string;
  fstype: string;
}

function mounts(): Mount[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(' ');
      const dash = f.indexOf('-');
      return { point: f[4]!.replace(/\\040/g, ' '), fstype: f[dash + 1]! };
    });
}

describe('the sandbox host', () => {
  beforeAll(() => inSandbox());

  it('runs a booted systemd as PID 1', async () => {
    expect(readFileSync('/proc/1/comm', 'utf8').trim()).toBe('systemd');
    const r = await run('systemctl', ['is-system-running', '--wait'], { timeoutMs: 60_000 });
    expect(['running', 'degraded']).toContain(r.stdout.trim());
  });

  it('has its own network namespace with only loopback, and networkd + resolved running', async () => {
    expect(readdirSync('/sys/class/net').sort()).toEqual(['lo']);
    const r = await run('systemctl', ['is-active', 'systemd-networkd.service', 'systemd-resolved.service', 'dbus.service']);
    expect(r.stdout.trim().split('\n')).toEqual(['active', 'active', 'active']);
  });

  it('reaches machined over D-Bus', async () => {
    const r = await run('machinectl', ['list', '--no-legend', '--no-pager']);
    expect(r.exitCode).toBe(0);
  });

  it('has /var/lib/sdme and the checkout as bind mounts of real filesystems', () => {
    const m = mounts();
    const data = m.find((x) => x.point === DATADIR);
    expect(data).toBeDefined();
    expect(data!.fstype).not.toBe('overlay');
    expect(m.some((x) => x.point === CHECKOUT)).toBe(true);
    expect(existsSync(join(CHECKOUT, 'package.json'))).toBe(true);
  });

  it('passes only the sandbox environment to commands (PATH, HOME, SDME_SANDBOX)', () => {
    expect(process.env.HOME).toBe('/root');
    expect(process.env.SDME_SANDBOX).toMatch(/^[a-z0-9-]+$/);
    expect(process.env.PATH).toContain('/usr/sbin');
  });

  it('has sdme and sdme-tui as commands that run this checkout', async () => {
    const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string };
    for (const cmd of ['sdme', 'sdme-tui']) {
      const where = await run('sh', ['-c', `command -v ${cmd}`]);
      expect(where.stdout.trim()).toBe(`/usr/local/bin/${cmd}`);
      expect(readFileSync(where.stdout.trim(), 'utf8')).toContain(`${CHECKOUT}/bin/${cmd}.js`);
      const r = await run(cmd, ['--version'], { timeoutMs: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(cmd === 'sdme' ? pkg.version : `sdme-tui ${pkg.version}`);
      expect(r.exitCode).toBe(0);
    }
  });

  describe('nested systemd-nspawn on an overlay under /var/lib/sdme', () => {
    const dir = join(DATADIR, `.${uniqueName('e2e-sbx')}`);
    beforeAll(() => {
      for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
    });
    afterAll(async () => {
      await run('umount', [join(dir, 'merged')], { timeoutMs: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    });

    it('runs a command in a nested container as a transient unit', async () => {
      const mnt = await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/merged`]);
      expect(mnt.stderr).toBe('');
      const r = await run(
        'systemd-run',
        ['--wait', '--pipe', '--quiet', '--collect', '-p', 'Delegate=yes',
          'systemd-nspawn', '--quiet', '-D', `${dir}/merged`, '--keep-unit', '--private-network', '--register=no', '--link-journal=no',
          '/bin/sh', '-c', 'echo nested:$(cat /proc/1/comm):$(ls /sys/class/net | tr "\\n" " ")'],
        { timeoutMs: 120_000 },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('nested:sh:lo');
    });
  });
});

describe('e2e helpers', () => {
  it('uniqueName gives distinct valid names with the prefix', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueName('hlp')));
    expect(names.size).toBe(50);
    for (const n of names) expect(n).toMatch(/^hlp-[0-9a-f]{6}$/);
  });

  it('waitFor returns the first truthy value and times out with the last error', async () => {
    let i = 0;
    await expect(waitFor(() => (++i >= 3 ? `got ${i}` : 0), 2000, 10)).resolves.toBe('got 3');
    await expect(
      waitFor(() => {
        throw new Error('not yet');
      }, 100, 10),
    ).rejects.toThrow(/within 100 ms: not yet/);
  });

  it('sdme runs the built CLI of this checkout', async () => {
    const pkg = JSON.parse(readFileSync(join(CHECKOUT, 'package.json'), 'utf8')) as { version: string };
    const r = await sdme(['--version']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.code).toBe(0);
  });
});
