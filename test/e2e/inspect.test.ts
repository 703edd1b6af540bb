/**
 * E2E: a real nspawn container (started directly with systemd-run, as sdme's
 * template would run it: Slice=machine.slice, Delegate=yes, --keep-unit) with
 * --drop-capability=CAP_SYS_PTRACE --no-new-privileges=yes --private-network,
 * then `inspectContainer` read live from its leader. Must run in the sandbox host.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyState, ensureStateDir, removeStateFile, writeState } from '../../src/engine/catalogue/container-state.js';
import { makeCtx, type Ctx } from '../../src/engine/context.js';
import { formatIsolationTable, inspectContainer, NSPAWN_DEFAULT_CAPS, type IsolationReport } from '../../src/engine/security/inspect.js';
import { clearCgroupCache, readCgroupStats } from '../../src/native/cgroup.js';
import { capMaskToNames } from '../../src/engine/security/caps.js';
import { parseProcStatus } from '../../src/native/procfs.js';
import { run } from '../../src/native/run.js';

const NAME = 'inspe2e';
const UNIT = `sdme@${NAME}.service`;
const inSystemdHost = existsSync('/run/systemd/system');

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Overlay of / under containers/NAME, a state file, and nspawn as sdme@NAME.service (like sdme's template). */
async function startContainer(ctx: Ctx, name: string, nspawnArgs: string[]): Promise<void> {
  const dir = ctx.layout.containerDir(name);
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
  await must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=/,upperdir=${dir}/upper,workdir=${dir}/work`, `${dir}/merged`]);
  await ensureStateDir(ctx.layout);
  await writeState(ctx.layout, emptyState(name));
  await must('systemd-run', [
    `--unit=sdme@${name}.service`, '-p', 'Slice=machine.slice', '-p', 'Delegate=yes', '-p', 'Type=notify', '-p', 'KillMode=mixed',
    '-p', 'TasksMax=16384',
    'systemd-nspawn', `--directory=${dir}/merged`, `--machine=${name}`, '--keep-unit', ...nspawnArgs, '--boot',
  ]);
  for (let i = 0; i < 100; i++) {
    const r = await run('machinectl', ['show', name, '-p', 'Leader', '--value'], { timeoutMs: 5000 });
    if (r.exitCode === 0 && Number(r.stdout.trim()) > 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`machine ${name} did not register`);
}

async function stopContainer(ctx: Ctx, name: string): Promise<void> {
  const dir = ctx.layout.containerDir(name);
  await run('systemctl', ['stop', `sdme@${name}.service`], { timeoutMs: 60_000 });
  await run('systemctl', ['reset-failed', `sdme@${name}.service`], { timeoutMs: 10_000 });
  await run('umount', [`${dir}/merged`], { timeoutMs: 10_000 });
  rmSync(dir, { recursive: true, force: true });
  await removeStateFile(ctx.layout, name).catch(() => {});
}

describe.skipIf(!inSystemdHost)('sdme inspect on a live nspawn container', () => {
  let ctx: Ctx;
  let bindSrc: string;
  let report: IsolationReport;

  beforeAll(async () => {
    ctx = await makeCtx({ configPath: '/nonexistent/sdme.conf' });
    bindSrc = join(ctx.layout.datadir, 'inspe2e-bindsrc');
    mkdirSync(bindSrc, { recursive: true });
    await startContainer(ctx, NAME, ['--drop-capability=CAP_SYS_PTRACE', '--no-new-privileges=yes', '--private-network', `--bind-ro=${bindSrc}:/mnt/inspect-ro`]);
    report = await inspectContainer(ctx, NAME.slice(0, 5)); // unique prefix resolves through the state dir
  });

  afterAll(async () => {
    await stopContainer(ctx, NAME);
    rmSync(bindSrc, { recursive: true, force: true });
  });

  it('decodes the bounding set: SYS_PTRACE dropped, NET_ADMIN added, limited by the host set', () => {
    const caps = report.capabilities;
    expect(report.name).toBe(NAME);
    expect(caps.bounding).not.toContain('CAP_SYS_PTRACE');
    expect(caps.bounding).toContain('CAP_NET_ADMIN');
    // what nspawn can grant: its default 26 + NET_ADMIN - the drop, within PID 1's bounding set
    const host = new Set(capMaskToNames(parseProcStatus(readFileSync('/proc/1/status', 'utf8')).capBnd.toString(16)));
    const expected = [...NSPAWN_DEFAULT_CAPS, 'CAP_NET_ADMIN'].filter((c) => c !== 'CAP_SYS_PTRACE' && host.has(c));
    expect([...caps.bounding].sort()).toEqual(expected.sort());
    expect(caps.count).toBe(expected.length);
    expect(caps.removedVsNspawn).toContain('CAP_SYS_PTRACE');
    expect(caps.addedVsNspawn).toEqual(['CAP_NET_ADMIN']);
    console.log(`bounding set: ${caps.count} caps; missing on host: ${caps.missingOnHost.join(',') || 'none'}`);
  });

  it('reports NoNewPrivs, seccomp filter mode and the namespaces', () => {
    expect(report.noNewPrivs).toBe(true);
    expect(report.rows.find((r) => r.key === 'nnp')).toMatchObject({ value: '1', verdict: 'stronger', verdictPodman: 'stronger' });
    expect(report.seccomp.mode).toBe(2);
    expect(report.seccomp.filters).toBeGreaterThan(0);
    const ns = Object.fromEntries(report.namespaces.map((n) => [n.kind, n.private]));
    expect(ns).toMatchObject({ pid: true, ipc: true, uts: true, mnt: true, net: true, user: false });
    expect(report.uidMap).toEqual([{ inside: 0, outside: 0, count: 4294967295 }]);
  });

  it('sees only lo in the private network namespace', () => {
    expect(report.interfaces.map((i) => i.name)).toEqual(['lo']);
    expect(report.rows.find((r) => r.key === 'net')).toMatchObject({ value: 'lo', verdict: 'stronger' });
  });

  it('lists the read-only bind with its host path, and a writable root', () => {
    expect(report.binds).toContainEqual(expect.objectContaining({ target: '/mnt/inspect-ro', source: bindSrc, mode: 'ro' }));
    expect(report.rootReadOnly).toBe(false);
  });

  it('finds the unit cgroup from the leader and by unit name', () => {
    expect(report.cgroup?.path).toBe(`/machine.slice/${UNIT}`);
    expect(report.cgroup?.cpuUsageUsec).toBeGreaterThan(0);
    clearCgroupCache();
    const byUnit = readCgroupStats(UNIT);
    expect(byUnit?.path).toBe(`/machine.slice/${UNIT}`);
    expect(byUnit?.cpuUsageUsec).toBeGreaterThanOrEqual(report.cgroup!.cpuUsageUsec!);
  });

  it('renders the table', () => {
    const table = formatIsolationTable(report);
    console.log(table);
    expect(table).toMatch(/^ROW\s+THIS CONTAINER\s+DOCKER\s+PODMAN/m);
    expect(table).toMatch(/capabilities \(bounding\)\s+\d+ caps\s+14 caps\s+11 caps/);
    expect(table).toContain('-SYS_PTRACE');
  });
});

describe.skipIf(!inSystemdHost)('sdme inspect on a live --read-only container with host networking', () => {
  const name = 'inspro';
  let ctx: Ctx;
  let report: IsolationReport;

  beforeAll(async () => {
    ctx = await makeCtx({ configPath: '/nonexistent/sdme.conf' });
    await startContainer(ctx, name, ['--read-only']);
    report = await inspectContainer(ctx, name);
  });
  afterAll(async () => stopContainer(ctx, name));

  it('sees a read-only root, the host network namespace and no NoNewPrivs', () => {
    expect(report.rootReadOnly).toBe(true);
    expect(report.rows.find((r) => r.key === 'rootfs')).toMatchObject({ value: 'read-only', verdict: 'stronger' });
    expect(report.namespaces.find((n) => n.kind === 'net')?.private).toBe(false);
    expect(report.rows.find((r) => r.key === 'net')?.verdict).toBe('weaker');
    expect(report.noNewPrivs).toBe(false);
    // without --private-network nspawn does not add NET_ADMIN
    expect(report.capabilities.bounding).not.toContain('CAP_NET_ADMIN');
    expect(report.capabilities.bounding).toContain('CAP_SYS_PTRACE');
  });
});
