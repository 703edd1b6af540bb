/**
 * Real sandbox lifecycle (root + systemd-nspawn, nothing mocked): boots an
 * overlay clone of / and checks what up/down leave behind. Uses its own base
 * dir and names so it never meets a sandbox someone else is using.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SdmeError } from '../../src/engine/errors.js';
import { findOnPath } from '../../src/engine/sandbox/tools.js';
import { findNspawn, allPids, readCmdline } from '../../src/engine/sandbox/procs.js';
import { sandboxDown, sandboxPaths, sandboxRun, sandboxStatus, sandboxUp } from '../../src/engine/sandbox/sandbox.js';
import { readRecord, writeRecord } from '../../src/engine/sandbox/state.js';

const canRun = process.getuid?.() === 0 && findOnPath('systemd-nspawn', process.env.PATH) !== undefined;
const base = `/var/tmp/sdme-sandbox-test-${process.pid}`;
const NAME = `sbt-${process.pid}`;
const CHECKOUT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

/** Everything of sandbox `name` that could leak: mounts, processes, dirs, lock. */
function leftovers(name: string, b = base): string[] {
  const p = sandboxPaths(name, b);
  const out: string[] = [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(` ${p.dir}`) || l.includes(`/unix-export/${name} `));
  out.push(...mounts.map((m) => `mount: ${m}`));
  for (const pid of findNspawn(name)) out.push(`nspawn pid ${pid}`);
  for (const pid of allPids()) {
    if (pid !== process.pid && readCmdline(pid).some((a) => a.includes(p.dir))) out.push(`process ${pid}: ${readCmdline(pid).join(' ')}`);
  }
  if (existsSync(p.dir)) out.push(`dir ${p.dir}`);
  if (existsSync(p.lockFile)) out.push(`lock ${p.lockFile}`);
  return out;
}

describe.skipIf(!canRun)('sandbox lifecycle (real nspawn)', () => {
  afterAll(async () => {
    await sandboxDown({ name: NAME, base }).catch(() => undefined);
    await sandboxDown({ name: NAME, base: `${base}-other` }).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
    rmSync(`${base}-other`, { recursive: true, force: true });
  });

  it('reports a missing systemd-nspawn with the package to install, before touching anything', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sbt-path-'));
    try {
      const err = await sandboxUp({ name: NAME, base, pathEnv: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SdmeError);
      expect((err as Error).message).toBe('systemd-nspawn not found on PATH: install the systemd-container package');
      expect(existsSync(sandboxPaths(NAME, base).dir)).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('looks tools up on $PATH by default', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sbt-path-'));
    const saved = process.env.PATH;
    process.env.PATH = empty;
    try {
      await expect(sandboxUp({ name: NAME, base })).rejects.toThrow(/^systemd-nspawn not found on PATH/);
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('down of a sandbox that is not there is a no-op', async () => {
    expect(await sandboxDown({ name: NAME, base })).toBe(false);
    expect((await sandboxStatus({ name: NAME, base })).state).toBe('down');
  });

  it('up boots systemd; up again is idempotent; a concurrent up is refused', async () => {
    const [first, second] = await Promise.allSettled([
      sandboxUp({ name: NAME, base, bindCheckout: CHECKOUT }),
      sandboxUp({ name: NAME, base, bindCheckout: CHECKOUT }),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    expect(String((second as PromiseRejectedResult).reason.message)).toMatch(
      new RegExp(`^sandbox '${NAME}' is busy: another sdme sandbox command \\(pid ${process.pid}\\)`),
    );
    const up = (first as PromiseFulfilledResult<Awaited<ReturnType<typeof sandboxUp>>>).value;
    expect(up.started).toBe(true);
    expect(readFileSync(`/proc/${up.record.leaderPid}/comm`, 'utf8').trim()).toBe('systemd');

    const again = await sandboxUp({ name: NAME, base, bindCheckout: CHECKOUT });
    expect(again.started).toBe(false);
    expect(again.record.leaderPid).toBe(up.record.leaderPid);
    expect(findNspawn(NAME)).toEqual([up.record.nspawnPid]);

    const st = await sandboxStatus({ name: NAME, base });
    expect(['running', 'degraded']).toContain(st.state);
    expect(st.leaderPid).toBe(up.record.leaderPid);
    expect(st.systemdVersion).toMatch(/^\d{3}$/);
    expect(st.checkout).toBe(CHECKOUT);
  }, 90_000);

  it('refuses a second copy under the same name from another state dir', async () => {
    await expect(sandboxUp({ name: NAME, base: `${base}-other` })).rejects.toThrow(
      new RegExp(`^a systemd-nspawn for machine '${NAME}' is already running \\(pid \\d+\\).*refusing a second copy$`),
    );
    expect(existsSync(sandboxPaths(NAME, `${base}-other`).dir)).toBe(false);
  });

  it('refuses to reuse a running sandbox that lacks the requested checkout bind', async () => {
    await expect(sandboxUp({ name: NAME, base, bindCheckout: '/srv' })).rejects.toThrow(/is up without \/srv bound/);
  });

  it('run returns the inner exit code, inside its own network namespace, in the given cwd', async () => {
    const script = `test "$(pwd)" = "${CHECKOUT}" && test "$(ls /sys/class/net)" = lo && test "$(cat /proc/1/comm)" = systemd && exit 42`;
    expect(await sandboxRun(['/bin/sh', '-c', script], { name: NAME, base, cwd: CHECKOUT })).toBe(42);
    expect(await sandboxRun(['/bin/true'], { name: NAME, base })).toBe(0);
  });

  it('down powers it off and leaves no mounts, processes, dirs or lock; down again is a no-op', async () => {
    const t0 = Date.now();
    expect(await sandboxDown({ name: NAME, base })).toBe(true);
    expect(Date.now() - t0).toBeLessThan(35_000);
    expect(leftovers(NAME)).toEqual([]);
    expect(await sandboxDown({ name: NAME, base })).toBe(false);
    await expect(sandboxRun(['/bin/true'], { name: NAME, base })).rejects.toThrow(`sandbox '${NAME}' is not up`);
  }, 60_000);

  it('a failed boot cleans up after itself and shows the console', async () => {
    const err = await sandboxUp({ name: NAME, base, timeoutMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SdmeError);
    expect((err as Error).message).toMatch(new RegExp(`^sandbox '${NAME}' did not boot: timed out.*\\n--- console`, 's'));
    expect(leftovers(NAME)).toEqual([]);
  }, 60_000);

  it('a sandbox whose nspawn was killed is cleaned up by the next up (stale state)', async () => {
    const up = await sandboxUp({ name: NAME, base });
    process.kill(up.record.leaderPid, 'SIGKILL');
    for (let i = 0; i < 100 && findNspawn(NAME).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await sandboxStatus({ name: NAME, base })).state).toBe('stale');
    const again = await sandboxUp({ name: NAME, base });
    expect(again.started).toBe(true);
    expect(again.record.leaderPid).not.toBe(up.record.leaderPid);
    expect(await sandboxDown({ name: NAME, base })).toBe(true);
    expect(leftovers(NAME)).toEqual([]);
  }, 90_000);

  it('an up that died mid-boot (record without leader) is taken over, not refused as a second copy', async () => {
    const up = await sandboxUp({ name: NAME, base });
    const p = sandboxPaths(NAME, base);
    writeRecord(p.stateFile, { ...readRecord(p.stateFile)!, leaderPid: 0 });
    expect((await sandboxStatus({ name: NAME, base })).state).toBe('stale');
    const again = await sandboxUp({ name: NAME, base });
    expect(again.started).toBe(true);
    expect(again.record.nspawnPid).not.toBe(up.record.nspawnPid);
    expect(findNspawn(NAME)).toEqual([again.record.nspawnPid]);
    expect(await sandboxDown({ name: NAME, base })).toBe(true);
    expect(leftovers(NAME)).toEqual([]);
  }, 90_000);
});
