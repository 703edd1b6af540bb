/**
 * E2E: real containers made and started with the CLI (`sdme create` with
 * --drop-capability CAP_SYS_PTRACE --no-new-privileges --private-network and a
 * read-only bind, then `sdme start`), and `inspectContainer` read live from the
 * leader. Must run in the sandbox host.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCtx, type Ctx } from '../../src/engine/context.js';
import { formatIsolationTable, inspectContainer, NSPAWN_DEFAULT_CAPS, type IsolationReport } from '../../src/engine/security/inspect.js';
import { clearCgroupCache, readCgroupStats } from '../../src/native/cgroup.js';
import { capMaskToNames } from '../../src/engine/security/caps.js';
import { parseProcStatus } from '../../src/native/procfs.js';
import { cleanupContainers, sdme } from './helpers.js';

const NAME = 'inspe2e';
const UNIT = `sdme@${NAME}.service`;
const inSystemdHost = existsSync('/run/systemd/system');

async function ok(args: string[]): Promise<void> {
  const r = await sdme(args, { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`sdme ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
}

/** `sdme create --name NAME FLAGS` then `sdme start NAME` (after removing any leftover of that name). */
async function startContainer(name: string, createFlags: string[]): Promise<void> {
  await cleanupContainers(name);
  await ok(['create', '--name', name, ...createFlags]);
  await ok(['start', name]);
}

async function stopContainer(name: string): Promise<void> {
  const left = await cleanupContainers(name);
  if (left.length) throw new Error(`could not remove ${left.join(', ')}`);
}

describe.skipIf(!inSystemdHost)('sdme inspect on a live nspawn container', () => {
  let ctx: Ctx;
  let bindSrc: string;
  let report: IsolationReport;

  beforeAll(async () => {
    ctx = await makeCtx({ configPath: '/nonexistent/sdme.conf' });
    bindSrc = join(ctx.layout.datadir, 'inspe2e-bindsrc');
    mkdirSync(bindSrc, { recursive: true });
    await startContainer(NAME, ['--drop-capability', 'CAP_SYS_PTRACE', '--no-new-privileges', '--private-network', '-b', `${bindSrc}:/mnt/inspect-ro:ro`]);
    report = await inspectContainer(ctx, NAME.slice(0, 5)); // unique prefix resolves through the state dir
  });

  afterAll(async () => {
    await stopContainer(NAME);
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
    await startContainer(name, ['--read-only']);
    report = await inspectContainer(ctx, name);
  });
  afterAll(async () => stopContainer(name));

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
