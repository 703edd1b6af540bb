import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layout } from '../../src/engine/catalogue/paths.js';
import { SdmeError } from '../../src/engine/errors.js';
import { DOCKER_DEFAULT_CAPS, PODMAN_DEFAULT_CAPS } from '../../src/engine/security/baselines.js';
import {
  compareCaps,
  compareFlag,
  compareLimit,
  formatBytes,
  formatIsolationTable,
  inspectContainer,
  listSubmountTargets,
  NSPAWN_DEFAULT_CAPS,
  type InspectDeps,
  type IsolationReport,
} from '../../src/engine/security/inspect.js';
import { clearCgroupCache, readCgroupStats } from '../../src/native/cgroup.js';
import { capNamesToMask } from '../../src/engine/security/caps.js';

const tmp = mkdtempSync(join(tmpdir(), 'sdme-inspect-fake-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function put(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

const NS = ['pid', 'ipc', 'uts', 'mnt', 'net', 'user', 'cgroup'];
const NET_HEADER = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n';

interface FakePid {
  capBnd: string;
  nnp?: boolean;
  seccomp?: number;
  filters?: number;
  /** ns inodes; a namespace equal to the host's gets the host inode */
  ns: Record<string, number>;
  uidMap?: string;
  ifaces?: string[];
  mountinfo?: string;
  cgroup?: string;
}

/** A fake /proc with PID 1 (the host) and one leader pid. */
function fakeProc(name: string, pid: number, leader: FakePid): string {
  const root = join(tmp, name);
  const proc = join(root, 'proc');
  const host: FakePid = { capBnd: '000001fffeffffff', ns: Object.fromEntries(NS.map((k, i) => [k, 4026531830 + i])) };
  for (const [p, f] of [[1, host], [pid, leader]] as const) {
    put(proc, `${p}/status`, [
      'Name:\tsystemd',
      `NSpid:\t${p}`,
      `CapEff:\t${f.capBnd}`,
      `CapBnd:\t${f.capBnd}`,
      `NoNewPrivs:\t${f.nnp ? 1 : 0}`,
      `Seccomp:\t${f.seccomp ?? 0}`,
      `Seccomp_filters:\t${f.filters ?? 0}`,
      '',
    ].join('\n'));
    mkdirSync(join(proc, String(p), 'ns'), { recursive: true });
    for (const k of NS) symlinkSync(`${k}:[${f.ns[k]}]`, join(proc, String(p), 'ns', k));
    put(proc, `${p}/uid_map`, f.uidMap ?? '         0          0 4294967295\n');
    put(proc, `${p}/gid_map`, f.uidMap ?? '         0          0 4294967295\n');
    put(proc, `${p}/net/dev`, NET_HEADER + (f.ifaces ?? ['lo', 'eth0']).map((i) => `  ${i}: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n`).join(''));
    put(proc, `${p}/mountinfo`, f.mountinfo ?? '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n');
    put(proc, `${p}/cgroup`, f.cgroup ?? '0::/init.scope\n');
  }
  put(proc, 'self/mountinfo', [
    '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
    '2 1 8:1 /srv/data /var/lib/sdme rw - ext4 /dev/sda1 rw',
    '30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    '',
  ].join('\n'));
  return root;
}

function deps(root: string, pid: number | null, extra: Partial<InspectDeps> = {}): InspectDeps {
  return {
    resolve: async (n) => n,
    leaderPid: async () => pid,
    procRoot: join(root, 'proc'),
    apparmorEnabled: false,
    readCgroup: (p) => {
      clearCgroupCache();
      return readCgroupStats(p, { procRoot: join(root, 'proc'), fsRoot: root });
    },
    ...extra,
  };
}

const ctx = { layout: layout(join(tmp, 'datadir')) };
const row = (r: IsolationReport, key: string) => r.rows.find((x) => x.key === key)!;

describe('inspectContainer on a fake /proc tree', () => {
  // nspawn defaults - SYS_PTRACE + NET_ADMIN, NNP, private net with lo only, ro root, a ro and a rw bind
  const privateNs = Object.fromEntries(NS.map((k, i) => [k, k === 'user' ? 4026531830 + i : 4026532300 + i]));
  const root = fakeProc('hardened', 4242, {
    capBnd: '00000000fde4bfff', // nspawn's 26 - SYS_PTRACE + NET_ADMIN
    nnp: true,
    seccomp: 2,
    filters: 10,
    ns: privateNs,
    ifaces: ['lo'],
    mountinfo: [
      '10 1 0:50 / / ro,relatime - overlay overlay rw,lowerdir=/',
      '11 10 8:1 /srv/data/in /mnt/in ro - ext4 /dev/sda1 rw',
      '12 10 8:1 /srv/data/out /mnt/out rw - ext4 /dev/sda1 rw',
      '13 10 0:51 / /proc rw - proc proc rw',
      '',
    ].join('\n'),
    cgroup: '0::/machine.slice/sdme@web.service/payload/init.scope\n',
  });
  const unit = 'sys/fs/cgroup/machine.slice/sdme@web.service';
  put(root, `${unit}/memory.max`, '536870912\n');
  put(root, `${unit}/memory.current`, '1048576\n');
  put(root, `${unit}/cpu.max`, 'max 100000\n');
  put(root, `${unit}/cpu.weight`, '100\n');
  put(root, `${unit}/cpu.stat`, 'usage_usec 42\n');
  put(root, `${unit}/pids.max`, '16384\n');

  it('builds the report from the leader, not from any state', async () => {
    const r = await inspectContainer(ctx, 'web', deps(root, 4242));
    expect(r.name).toBe('web');
    expect(r.leaderPid).toBe(4242);
    expect(r.namespaces.map((n) => [n.kind, n.private])).toEqual(NS.map((k) => [k, k !== 'user']));
    expect(r.capabilities.bounding).not.toContain('CAP_SYS_PTRACE');
    expect(r.capabilities.addedVsNspawn).toEqual(['CAP_NET_ADMIN']);
    expect(r.capabilities.removedVsNspawn).toEqual(['CAP_SYS_PTRACE']);
    expect(r.capabilities.count).toBe(26);
    expect(r.capabilities.missingOnHost).toEqual([]);
    expect(r.noNewPrivs).toBe(true);
    expect(r.seccomp).toEqual({ mode: 2, filters: 10 });
    expect(r.interfaces).toEqual([{ name: 'lo', addresses: [] }]);
    expect(r.rootReadOnly).toBe(true);
    expect(r.binds).toEqual([
      { target: '/mnt/in', source: '/var/lib/sdme/in', mode: 'ro', fsType: 'ext4' },
      { target: '/mnt/out', source: '/var/lib/sdme/out', mode: 'rw', fsType: 'ext4' },
    ]);
    expect(r.cgroup).toMatchObject({ path: '/machine.slice/sdme@web.service', memoryMax: 536870912, cpuQuotaPercent: null, pidsMax: 16384 });
    expect(r.hostCgroupV2).toBe(true);
  });

  it('row verdicts against Docker and Podman', async () => {
    const r = await inspectContainer(ctx, 'web', deps(root, 4242));
    const v = Object.fromEntries(r.rows.map((x) => [x.key, [x.value, x.verdict, x.verdictPodman]]));
    expect(v).toMatchObject({
      'ns.net': ['private', 'same', 'same'],
      'ns.user': ['host', 'same', 'same'],
      'ns.cgroup': ['private', 'same', 'same'],
      caps: ['26 caps', 'weaker', 'weaker'],
      nnp: ['1', 'stronger', 'stronger'],
      seccomp: ['filter (10 filters)', 'same', 'same'],
      apparmor: ['none', 'n/a', 'n/a'],
      uidmap: ['identity (host ids)', 'same', 'same'],
      net: ['lo', 'stronger', 'stronger'],
      rootfs: ['read-only', 'stronger', 'stronger'],
      'memory.max': ['512M', 'stronger', 'stronger'],
      'cpu.max': ['unlimited', 'same', 'same'],
      'pids.max': ['16384', 'stronger', 'weaker'],
      binds: ['2 (1 rw)', 'n/a', 'n/a'],
    });
    expect(row(r, 'caps').detail).toContain('vs nspawn default 26: +NET_ADMIN -SYS_PTRACE');
    expect(row(r, 'binds').detail).toBe('/var/lib/sdme/in:/mnt/in:ro, /var/lib/sdme/out:/mnt/out:rw');
  });

  it('the table has the four named columns and the detail lines', async () => {
    const r = await inspectContainer(ctx, 'web', deps(root, 4242));
    const lines = formatIsolationTable(r).split('\n');
    expect(lines[0]).toBe('web (leader 4242)');
    expect(lines[1]).toMatch(/^ROW +THIS CONTAINER +DOCKER +PODMAN +VS DOCKER\/PODMAN$/);
    expect(lines.find((l) => l.startsWith('NoNewPrivs'))).toMatch(/^NoNewPrivs +1 +0 +0 +stronger\/stronger$/);
    expect(lines.find((l) => l.startsWith('pids.max'))).toMatch(/16384 +unlimited +2048 +stronger\/WEAKER$/);
    expect(lines).toContain('    vs Docker: +DAC_READ_SEARCH +LINUX_IMMUTABLE +NET_BROADCAST +NET_ADMIN +IPC_OWNER +SYS_ADMIN +SYS_BOOT +SYS_NICE +SYS_RESOURCE +SYS_TTY_CONFIG +LEASE +AUDIT_CONTROL');
    // columns line up: DOCKER starts at the same offset on every row line
    const col = lines[1]!.indexOf('DOCKER');
    expect(lines.find((l) => l.startsWith('NoNewPrivs'))![col]).toBe('0');
  });

  it('not running: SdmeError, and a leader that vanished is one too', async () => {
    await expect(inspectContainer(ctx, 'web', deps(root, null))).rejects.toThrow(new SdmeError("container 'web' is not running"));
    await expect(inspectContainer(ctx, 'web', deps(root, 99999))).rejects.toBeInstanceOf(SdmeError);
    await expect(inspectContainer(ctx, 'web', deps(root, 99999))).rejects.toThrow("container 'web' is not running (leader 99999 is gone)");
  });
});

describe('inspectContainer on a fake userns container sharing the host network', () => {
  const ns = Object.fromEntries(NS.map((k, i) => [k, k === 'net' ? 4026531830 + i : 4026532400 + i]));
  const root = fakeProc('userns', 77, {
    capBnd: '00000000a80425fb', // Docker's 14
    seccomp: 0,
    ns,
    uidMap: '0 1879048192 65536\n',
    ifaces: ['lo', 'eth0', 'wlan0'],
  });

  it('reports a remapped user namespace as stronger and host networking as weaker', async () => {
    const r = await inspectContainer(ctx, 'u', deps(root, 77, { hostCgroupV2: false, readCgroup: () => null }));
    expect(r.capabilities.bounding.sort()).toEqual([...DOCKER_DEFAULT_CAPS].sort());
    const v = Object.fromEntries(r.rows.map((x) => [x.key, [x.value, x.verdict, x.verdictPodman]]));
    expect(v).toMatchObject({
      'ns.user': ['private', 'stronger', 'stronger'],
      'ns.net': ['host', 'weaker', 'weaker'],
      // cgroup v1 host: Docker and Podman keep the host cgroupns
      'ns.cgroup': ['private', 'stronger', 'stronger'],
      caps: ['14 caps', 'same', 'weaker'],
      seccomp: ['disabled', 'weaker', 'weaker'],
      uidmap: ['0->1879048192 (65536)', 'stronger', 'stronger'],
      net: ['host network (3 interfaces)', 'weaker', 'weaker'],
      'memory.max': ['unknown', 'n/a', 'n/a'],
    });
    expect(row(r, 'ns.cgroup').docker).toBe('host');
    expect(row(r, 'caps').detail).toContain('caps are confined to the container user namespace');
  });
});

describe('inspect display: own drops and sdme submount overlays (fake /proc)', () => {
  // nspawn's 26 minus SYS_RESOURCE and SYS_PTRACE; the fake host (PID 1, 000001fffeffffff) lacks SYS_RESOURCE too
  const root = fakeProc('own-drops', 5151, {
    capBnd: capNamesToMask(NSPAWN_DEFAULT_CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE' && c !== 'CAP_SYS_PTRACE'))
      .toString(16)
      .padStart(16, '0'),
    ns: Object.fromEntries(NS.map((k, i) => [k, 4026532500 + i])),
    mountinfo: [
      '10 1 0:50 / / rw - overlay overlay rw,lowerdir=/',
      // sdme's re-overlay of the host's /work/main (mounted at MERGED/work/main on the host)
      '11 10 0:60 / /work/main rw - overlay overlay rw,lowerdir=/work/main',
      // a user's bind
      '12 10 8:1 /srv/data/out /mnt/out rw - ext4 /dev/sda1 rw',
      // an overlay the user bound in from elsewhere stays a bind
      '13 10 0:61 / /mnt/ov ro - overlay overlay rw',
      '',
    ].join('\n'),
  });
  // the host's mountinfo: the re-overlay sits at MERGED/work/main, the other overlay elsewhere
  const merged = '/var/lib/sdme/containers/hc/merged';
  put(join(root, 'proc'), 'self/mountinfo', [
    '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
    '2 1 8:1 /srv/data /var/lib/sdme rw - ext4 /dev/sda1 rw',
    `3 1 0:60 / ${merged}/work/main rw - overlay overlay rw`,
    '4 1 0:61 / /srv/ov ro - overlay overlay rw',
    '30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    '',
  ].join('\n'));
  const caps = (r: IsolationReport) => row(r, 'caps').detail;

  it('host lacks SYS_RESOURCE: named as missing on the host only when the container did not drop it itself', async () => {
    const plain = await inspectContainer(ctx, 'hc', deps(root, 5151, { ownDrops: ['CAP_SYS_PTRACE'], sdmeSubmounts: [] }));
    expect(plain.capabilities.removedVsNspawn).toEqual(['CAP_SYS_PTRACE', 'CAP_SYS_RESOURCE']);
    expect(plain.capabilities.missingOnHost).toEqual(['CAP_SYS_RESOURCE']);
    expect(caps(plain)).toContain("(SYS_RESOURCE absent from the host's own bounding set)");
    // --strict drops SYS_RESOURCE on purpose: no host note
    const strict = await inspectContainer(ctx, 'hc', deps(root, 5151, { ownDrops: ['CAP_SYS_PTRACE', 'CAP_SYS_RESOURCE'], sdmeSubmounts: [] }));
    expect(strict.capabilities.missingOnHost).toEqual([]);
    expect(caps(strict)).not.toContain('absent from the host');
    expect(caps(strict)).toContain('vs nspawn default 26: -SYS_PTRACE -SYS_RESOURCE');
  });

  it('own drops default to the state file (missing state: none)', async () => {
    const L = ctx.layout;
    const r = await inspectContainer(ctx, 'hc', deps(root, 5151, { sdmeSubmounts: [] }));
    expect(r.capabilities.missingOnHost).toEqual(['CAP_SYS_RESOURCE']);
    mkdirSync(L.stateDir, { recursive: true });
    writeFileSync(L.stateFile('hc'), 'NAME=hc\nCREATED=1\nROOTFS=\nDROP_CAPS=CAP_SYS_RESOURCE,CAP_SYS_PTRACE\n');
    try {
      const s = await inspectContainer(ctx, 'hc', deps(root, 5151, { sdmeSubmounts: [] }));
      expect(s.capabilities.missingOnHost).toEqual([]);
    } finally {
      rmSync(L.stateFile('hc'));
    }
  });

  it("a host clone's re-overlaid submount is not a bind; user binds (overlay ones too) stay", async () => {
    const bySubmount = await inspectContainer(ctx, 'hc', deps(root, 5151, { ownDrops: [], sdmeSubmounts: ['/work/main'], mergedDir: '/elsewhere' }));
    expect(bySubmount.binds.map((b) => b.target)).toEqual(['/mnt/out', '/mnt/ov']);
    expect(row(bySubmount, 'binds').value).toBe('2 (1 rw)');
    // same result from the host side alone (MERGED/work/main), with no submount dirs known
    const byMerged = await inspectContainer(ctx, 'hc', deps(root, 5151, { ownDrops: [], sdmeSubmounts: [], mergedDir: merged }));
    expect(byMerged.binds.map((b) => b.target)).toEqual(['/mnt/out', '/mnt/ov']);
    // neither known: listed, as before
    const neither = await inspectContainer(ctx, 'hc', deps(root, 5151, { ownDrops: [], sdmeSubmounts: [], mergedDir: '/elsewhere' }));
    expect(neither.binds.map((b) => b.target)).toEqual(['/work/main', '/mnt/out', '/mnt/ov']);
  });

  it('listSubmountTargets finds the dirs start prepared (upper + work), nested ones too', async () => {
    const c = join(tmp, 'subs-container');
    for (const rel of ['work/main', 'home', 'data/deep']) {
      mkdirSync(join(c, 'submounts', rel, 'upper'), { recursive: true });
      mkdirSync(join(c, 'submounts', rel, 'work'), { recursive: true });
    }
    mkdirSync(join(c, 'submounts', 'half', 'upper'), { recursive: true });
    expect(await listSubmountTargets(c)).toEqual(['/data/deep', '/home', '/work/main']);
    expect(await listSubmountTargets(join(tmp, 'no-such-container'))).toEqual([]);
  });
});

describe('comparison helpers', () => {
  it.each([
    [true, false, 'stronger'],
    [false, true, 'weaker'],
    [true, true, 'same'],
    [false, false, 'same'],
  ] as const)('compareFlag(%s, %s) = %s', (a, b, want) => {
    expect(compareFlag(a, b)).toBe(want);
  });

  it.each([
    [null, null, 'same'],
    [100, null, 'stronger'],
    [null, 2048, 'weaker'],
    [1000, 2048, 'stronger'],
    [4096, 2048, 'weaker'],
    [2048, 2048, 'same'],
  ] as const)('compareLimit(%s, %s) = %s', (a, b, want) => {
    expect(compareLimit(a, b)).toBe(want);
  });

  it('compareCaps: subset stronger, extra cap weaker even if smaller', () => {
    expect(compareCaps(PODMAN_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS)).toBe('stronger');
    expect(compareCaps(DOCKER_DEFAULT_CAPS, PODMAN_DEFAULT_CAPS)).toBe('weaker');
    expect(compareCaps(DOCKER_DEFAULT_CAPS, DOCKER_DEFAULT_CAPS)).toBe('same');
    expect(compareCaps(['CAP_SYS_ADMIN'], DOCKER_DEFAULT_CAPS)).toBe('weaker');
  });

  it('baseline and nspawn lists have the documented sizes and no duplicates', () => {
    expect(new Set(DOCKER_DEFAULT_CAPS).size).toBe(14);
    expect(new Set(PODMAN_DEFAULT_CAPS).size).toBe(11);
    expect(PODMAN_DEFAULT_CAPS).not.toContain('CAP_MKNOD');
    expect(new Set(NSPAWN_DEFAULT_CAPS).size).toBe(26);
  });

  it.each([
    [536870912, '512M'],
    [1073741824, '1G'],
    [1500, '1500B'],
    [1536, '1536B'],
    [209715200, '200M'],
  ])('formatBytes(%s) = %s', (n, want) => {
    expect(formatBytes(n)).toBe(want);
  });
});
