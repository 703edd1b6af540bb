import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  cgroupDirIn,
  clearCgroupCache,
  parseCgroupMounts,
  parseCpuMax,
  parseCpuStatUsage,
  parseProcCgroup,
  readCgroupStats,
  unitCgroupPath,
  unitPathCandidates,
} from '../../src/native/cgroup.js';
import { parseMountinfo } from '../../src/native/mountinfo.js';

const tmp = mkdtempSync(join(tmpdir(), 'sdme-cgroup-fake-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => clearCgroupCache());

function put(root: string, rel: string, text: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

const UNIT = 'sdme@web.service';
const V2_MOUNTINFO = '30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n';
const HYBRID_MOUNTINFO = [
  '60 53 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '61 53 0:30 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '66 53 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
  '68 53 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup rw',
  '69 53 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd',
].join('\n');

describe('parsers', () => {
  it('parseProcCgroup: hybrid lines, v2 line, empty controllers', () => {
    expect(parseProcCgroup('9:name=systemd:/machine.slice/a.service\n4:memory:/\n2:cpu,cpuacct:/x\n0::/machine.slice/a.service/payload\n')).toEqual([
      { id: 9, controllers: ['name=systemd'], path: '/machine.slice/a.service' },
      { id: 4, controllers: ['memory'], path: '/' },
      { id: 2, controllers: ['cpu', 'cpuacct'], path: '/x' },
      { id: 0, controllers: [], path: '/machine.slice/a.service/payload' },
    ]);
  });

  it('parseProcCgroup reads this process (always has the 0:: line on v2/hybrid or named v1 lines)', () => {
    const entries = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.path.startsWith('/'))).toBe(true);
  });

  it('parseCgroupMounts splits co-mounted controllers and finds cgroup2', () => {
    const m = parseCgroupMounts(HYBRID_MOUNTINFO);
    expect(m.unified).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
    expect(m.v1.get('cpu')?.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(m.v1.get('cpuacct')?.mountPoint).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(m.v1.get('name=systemd')?.mountPoint).toBe('/sys/fs/cgroup/systemd');
    expect(parseCgroupMounts(V2_MOUNTINFO).v1.size).toBe(0);
  });

  it('parseCgroupMounts agrees with this machine mountinfo', () => {
    const text = readFileSync('/proc/self/mountinfo', 'utf8');
    const m = parseCgroupMounts(text);
    const v2 = parseMountinfo(text).find((e) => e.fsType === 'cgroup2');
    expect(m.unified?.mountPoint).toBe(v2?.mountPoint);
  });

  it.each([
    ['max 100000', null],
    ['50000 100000', 50],
    ['150000 100000', 150],
    ['33333 100000', 33.33],
    ['', null],
  ])('parseCpuMax(%s) = %s', (text, want) => {
    expect(parseCpuMax(text)).toBe(want);
  });

  it('parseCpuStatUsage', () => {
    expect(parseCpuStatUsage('usage_usec 487070\nuser_usec 1\n')).toBe(487070);
    expect(parseCpuStatUsage('user_usec 1\n')).toBeNull();
  });

  it.each([
    ['/machine.slice/sdme@a.service/payload/init.scope', '/machine.slice/sdme@a.service'],
    ['/system.slice/system-sdme.slice/sdme@a.service', '/system.slice/system-sdme.slice/sdme@a.service'],
    ['/init.scope', '/init.scope'],
    ['/', '/'],
    ['/user.slice', '/user.slice'],
  ])('unitCgroupPath(%s)', (p, want) => {
    expect(unitCgroupPath(p)).toBe(want);
  });

  it('cgroupDirIn handles a mount rooted below / (inside a container)', () => {
    const m = { mountPoint: '/sys/fs/cgroup/unified', root: '/machine.slice/x.service/payload' };
    expect(cgroupDirIn(m, '/machine.slice/x.service/payload/init.scope')).toBe('/sys/fs/cgroup/unified/init.scope');
    expect(cgroupDirIn(m, '/machine.slice/x.service/payload')).toBe('/sys/fs/cgroup/unified');
    expect(cgroupDirIn(m, '/other')).toBeUndefined();
  });

  it('unitPathCandidates escapes the template prefix', () => {
    expect(unitPathCandidates('my-tpl@a.service')).toEqual([
      '/machine.slice/my-tpl@a.service',
      '/system.slice/my-tpl@a.service',
      '/system.slice/system-my\\x2dtpl.slice/my-tpl@a.service',
    ]);
  });
});

describe('readCgroupStats on a fake cgroup v2 tree', () => {
  const root = join(tmp, 'v2');
  const proc = join(root, 'proc');
  const unit = `/sys/fs/cgroup/machine.slice/${UNIT}`;
  put(root, 'proc/self/mountinfo', V2_MOUNTINFO);
  put(root, 'proc/500/cgroup', `0::/machine.slice/${UNIT}/payload/init.scope\n`);
  put(root, `${unit}/memory.max`, '209715200\n');
  put(root, `${unit}/memory.current`, '52428800\n');
  put(root, `${unit}/cpu.max`, '50000 100000\n');
  put(root, `${unit}/cpu.weight`, '200\n');
  put(root, `${unit}/cpu.stat`, 'usage_usec 123456\nuser_usec 100000\n');
  put(root, `${unit}/pids.max`, '16384\n');
  put(root, `${unit}/pids.current`, '12\n');
  put(root, `${unit}/payload/cgroup.procs`, '500\n');
  put(root, '/sys/fs/cgroup/machine.slice/memory.max', 'max\n');
  put(root, '/sys/fs/cgroup/machine.slice/cpu.max', '25000 100000\n');
  put(root, '/sys/fs/cgroup/machine.slice/pids.max', 'max\n');
  const env = { fsRoot: root, procRoot: proc };

  it('by leader pid: lifts to the unit and normalises', () => {
    expect(readCgroupStats(500, env)).toEqual({
      path: `/machine.slice/${UNIT}`,
      memoryMax: 209715200,
      memoryCurrent: 52428800,
      // the slice's 25% is tighter than the unit's 50%
      cpuQuotaPercent: 25,
      cpuWeight: 200,
      cpuUsageUsec: 123456,
      pidsMax: 16384,
      pidsCurrent: 12,
      enforced: { memory: true, cpu: true, pids: true },
      layout: 'v2',
    });
  });

  it('by unit name, and null for a unit that is not running', () => {
    expect(readCgroupStats(UNIT, env)?.memoryMax).toBe(209715200);
    expect(readCgroupStats('sdme@nope.service', env)).toBeNull();
    expect(readCgroupStats(999, env)).toBeNull();
  });

  it('caches the resolution but sees new values, and drops a vanished cgroup', () => {
    expect(readCgroupStats(UNIT, env)?.cpuUsageUsec).toBe(123456);
    put(root, `${unit}/cpu.stat`, 'usage_usec 200000\n');
    expect(readCgroupStats(UNIT, env)?.cpuUsageUsec).toBe(200000);
    rmSync(join(root, unit), { recursive: true });
    expect(readCgroupStats(UNIT, env)).toBeNull();
  });
});

describe('readCgroupStats on a fake hybrid (v1 + unified) tree', () => {
  const root = join(tmp, 'hybrid');
  const proc = join(root, 'proc');
  const env = { fsRoot: root, procRoot: proc };
  put(root, 'proc/self/mountinfo', HYBRID_MOUNTINFO);
  const rel = `machine.slice/${UNIT}`;
  put(root, `sys/fs/cgroup/unified/${rel}/cpu.stat`, 'usage_usec 777\n');
  put(root, `sys/fs/cgroup/systemd/${rel}/cgroup.procs`, '');
  put(root, `sys/fs/cgroup/memory/${rel}/memory.limit_in_bytes`, '1073741824\n');
  put(root, `sys/fs/cgroup/memory/${rel}/memory.usage_in_bytes`, '4096\n');
  put(root, 'sys/fs/cgroup/memory/machine.slice/memory.limit_in_bytes', '9223372036854771712\n');
  put(root, `sys/fs/cgroup/cpu,cpuacct/${rel}/cpu.cfs_quota_us`, '150000\n');
  put(root, `sys/fs/cgroup/cpu,cpuacct/${rel}/cpu.cfs_period_us`, '100000\n');
  put(root, `sys/fs/cgroup/cpu,cpuacct/${rel}/cpu.shares`, '2048\n');
  put(root, `sys/fs/cgroup/cpu,cpuacct/${rel}/cpuacct.usage`, '5000000\n');
  put(root, 'sys/fs/cgroup/cpu,cpuacct/machine.slice/cpu.cfs_quota_us', '-1\n');
  put(root, 'sys/fs/cgroup/cpu,cpuacct/machine.slice/cpu.cfs_period_us', '100000\n');
  // attached: every hierarchy places the leader inside the unit
  put(root, 'proc/600/cgroup', [
    `9:name=systemd:/${rel}/payload/init.scope`,
    `4:memory:/${rel}/payload`,
    `2:cpu,cpuacct:/${rel}`,
    '1:pids:/',
    `0::/${rel}/payload/init.scope`,
  ].join('\n'));
  // nested like inside the sandbox: v1 controllers stay at the namespace root
  put(root, 'proc/700/cgroup', [`9:name=systemd:/${rel}/payload/init.scope`, '4:memory:/', '2:cpu,cpuacct:/', '1:pids:/', `0::/${rel}/payload/init.scope`].join('\n'));

  it('reads v1 limits (shares -> weight like systemd), usage from unified cpu.stat', () => {
    expect(readCgroupStats(600, env)).toEqual({
      path: `/${rel}`,
      memoryMax: 1073741824,
      memoryCurrent: 4096,
      cpuQuotaPercent: 150,
      cpuWeight: 200,
      cpuUsageUsec: 777,
      pidsMax: null,
      pidsCurrent: null,
      enforced: { memory: true, cpu: true, pids: false },
      layout: 'hybrid',
    });
  });

  it('reports limits as not enforced when the v1 controllers are not attached (nested)', () => {
    const s = readCgroupStats(700, env)!;
    expect(s.enforced).toEqual({ memory: false, cpu: false, pids: false });
    expect(s.memoryMax).toBeNull();
    expect(s.cpuQuotaPercent).toBeNull();
    expect(s.cpuUsageUsec).toBe(777);
  });

  it('falls back to cpuacct.usage (ns) when unified cpu.stat is missing', () => {
    rmSync(join(root, `sys/fs/cgroup/unified/${rel}/cpu.stat`));
    clearCgroupCache();
    expect(readCgroupStats(600, env)?.cpuUsageUsec).toBe(5000);
  });
});
