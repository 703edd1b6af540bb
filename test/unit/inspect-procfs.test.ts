import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMountinfo } from '../../src/native/mountinfo.js';
import { capMaskToNames } from '../../src/engine/security/caps.js';
import {
  findBindMounts,
  hostPathOf,
  isIdentityMap,
  isReadOnlyOptions,
  parseIdMap,
  parseIpAddrJson,
  parseNetDev,
  parseNsLink,
  parseProcStatus,
  readIdMaps,
  readNamespaces,
  readNetDevNames,
  readNsInode,
  readProcMounts,
  readProcStatus,
  rootMount,
} from '../../src/native/procfs.js';

// /proc/LEADER/status of a container started with --drop-capability=CAP_SYS_PTRACE
// --no-new-privileges=yes --private-network on a host without CAP_SYS_RESOURCE (abridged)
const CONTAINER_STATUS = `Name:\tsystemd
Umask:\t0022
State:\tS (sleeping)
Uid:\t0\t0\t0\t0
NSpid:\t57\t1
CapInh:\t00000000fce4bfff
CapPrm:\t00000000fce4bfff
CapEff:\t00000000fce4bfff
CapBnd:\t00000000fce4bfff
CapAmb:\t0000000000000000
NoNewPrivs:\t1
Seccomp:\t2
Seccomp_filters:\t10
`;

describe('parseProcStatus', () => {
  it('reads masks, NoNewPrivs, seccomp and NSpid', () => {
    const s = parseProcStatus(CONTAINER_STATUS);
    expect(s.name).toBe('systemd');
    expect(s.capBnd).toBe(0xfce4bfffn);
    expect(s.capAmb).toBe(0n);
    expect(s.noNewPrivs).toBe(true);
    expect(s.seccomp).toBe(2);
    expect(s.seccompFilters).toBe(10);
    expect(s.nspid).toEqual([57, 1]);
    expect(s.uid).toEqual([0, 0, 0, 0]);
  });

  it('leaves missing fields empty (old kernels without Seccomp_filters)', () => {
    const s = parseProcStatus('Name:\tx\nCapBnd:\tzz\nNoNewPrivs:\t0\n');
    expect(s).toMatchObject({ capBnd: 0n, noNewPrivs: false, seccomp: null, seccompFilters: null, nspid: [] });
  });

  it('parses this process: NSpid starts with our pid, Uid matches getuid', () => {
    const s = readProcStatus('self');
    expect(s.nspid[0]).toBe(process.pid);
    expect(s.uid[0]).toBe(process.getuid!());
    expect(s.capBnd).toBeGreaterThan(0n);
  });
});

describe('capability masks from status', () => {
  it('the container CapBnd decodes to 25 caps: PTRACE and SYS_RESOURCE missing, NET_ADMIN present', () => {
    const caps = capMaskToNames(parseProcStatus(CONTAINER_STATUS).capBnd.toString(16));
    expect(caps).toHaveLength(25);
    expect(caps).toContain('CAP_NET_ADMIN');
    expect(caps).not.toContain('CAP_SYS_PTRACE');
    expect(caps).not.toContain('CAP_SYS_RESOURCE');
  });
});

describe('namespaces', () => {
  it.each([
    ['net:[4026531840]', { type: 'net', inode: 4026531840 }],
    ['pid_for_children:[4026531836]', { type: 'pid_for_children', inode: 4026531836 }],
    ['/some/file', null],
    ['net:[abc]', null],
  ])('parseNsLink(%s)', (link, want) => {
    expect(parseNsLink(link)).toEqual(want);
  });

  it('reads the same inode that stat() reports for /proc/self/ns/*', () => {
    for (const kind of ['net', 'mnt', 'uts', 'ipc'] as const) {
      expect(readNsInode('self', kind)).toBe(statSync(`/proc/self/ns/${kind}`).ino);
    }
    const all = readNamespaces('self');
    expect(all.net).toBe(statSync('/proc/self/ns/net').ino);
    expect(readNsInode(999_999_999, 'net')).toBeNull();
  });
});

describe('id maps', () => {
  it('parses ranges and recognises the identity map', () => {
    expect(parseIdMap('         0          0 4294967295\n')).toEqual([{ inside: 0, outside: 0, count: 4294967295 }]);
    const mapped = parseIdMap('0 1879048192 65536\n');
    expect(mapped).toEqual([{ inside: 0, outside: 1879048192, count: 65536 }]);
    expect(isIdentityMap(parseIdMap('0 0 4294967295'))).toBe(true);
    expect(isIdentityMap(mapped)).toBe(false);
    expect(isIdentityMap([])).toBe(false);
    expect(parseIdMap('junk\n1 2\n')).toEqual([]);
  });

  it('reads this process maps and matches the raw text', () => {
    const maps = readIdMaps('self');
    expect(maps.uid).toEqual(parseIdMap(readFileSync('/proc/self/uid_map', 'utf8')));
    expect(maps.uid.length).toBeGreaterThan(0);
  });
});

describe('network interfaces', () => {
  const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
 host0: 1234 5 0 0 0 0 0 0 99 1 0 0 0 0 0 0
`;
  it('parses /proc/PID/net/dev names', () => {
    expect(parseNetDev(NET_DEV)).toEqual(['lo', 'host0']);
  });

  it('this process sees lo', () => {
    expect(readNetDevNames('self')).toContain('lo');
  });

  it('parses ip -j addr', () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: 'lo', operstate: 'UNKNOWN', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
      { ifindex: 2, ifname: 'host0', operstate: 'UP', addr_info: [] },
    ]);
    expect(parseIpAddrJson(json)).toEqual([
      { name: 'lo', state: 'UNKNOWN', addresses: ['127.0.0.1/8'] },
      { name: 'host0', state: 'UP', addresses: [] },
    ]);
  });
});

// container mountinfo as seen from the sandbox (abridged from a real nspawn container)
const CT_MOUNTINFO = [
  '628 579 0:78 / / rw,relatime shared:168 master:166 - overlay overlay rw,lowerdir=/,upperdir=/var/lib/sdme/containers/ict/upper',
  '629 628 0:83 / /tmp rw,nosuid,nodev shared:169 - tmpfs tmpfs rw',
  '635 628 0:87 / /run rw,nosuid,nodev shared:173 - tmpfs tmpfs rw,mode=755',
  '637 635 0:40 /usr/lib/os-release /run/host/os-release ro,nosuid - overlay overlay rw,lowerdir=/',
  '641 628 254:0 /tmp/sbx/data/bindsrc /mnt/ro ro,relatime shared:178 master:10 - ext4 /dev/vda rw',
  '642 628 254:0 /tmp/sbx/data/bindsrc /mnt/r\\040w rw,relatime shared:179 master:10 - ext4 /dev/vda rw',
  '643 628 254:0 /etc/unmapped /mnt/odd rw - ext4 /dev/vda rw',
  '473 628 0:90 / /proc rw,nosuid - proc proc rw',
  '499 473 0:87 /.#boot-id//deleted /proc/sys/kernel/random/boot_id ro - tmpfs tmpfs rw',
  '482 628 0:92 / /sys/fs/cgroup ro - tmpfs tmpfs ro',
  '708 635 0:95 / /run/credentials/x.service ro - ramfs ramfs rw',
].join('\n');
// the host (sandbox) side: / is an overlay, /var/lib/sdme a bind of /tmp/sbx/data on ext4
const HOST_MOUNTINFO = [
  '100 1 0:40 / / rw - overlay overlay rw,lowerdir=/',
  '101 100 254:0 /tmp/sbx/data /var/lib/sdme rw - ext4 /dev/vda rw',
  '102 100 254:0 /work/main /work/main rw - ext4 /dev/vda rw',
].join('\n');

describe('mounts', () => {
  const ct = parseMountinfo(CT_MOUNTINFO);
  const host = parseMountinfo(HOST_MOUNTINFO);

  it('finds the root mount and its ro flag', () => {
    expect(rootMount(ct)?.fsType).toBe('overlay');
    expect(isReadOnlyOptions(rootMount(ct)!.options)).toBe(false);
    expect(isReadOnlyOptions('ro,nosuid')).toBe(true);
    expect(isReadOnlyOptions('rw,errors=remount-ro')).toBe(false);
  });

  it('keeps user binds only and maps them back to host paths', () => {
    expect(findBindMounts(ct, host)).toEqual([
      { target: '/mnt/ro', source: '/var/lib/sdme/bindsrc', mode: 'ro', fsType: 'ext4' },
      { target: '/mnt/r w', source: '/var/lib/sdme/bindsrc', mode: 'rw', fsType: 'ext4' },
      { target: '/mnt/odd', source: '254:0:/etc/unmapped', mode: 'rw', fsType: 'ext4' },
    ]);
  });

  it('hostPathOf prefers the most specific host mount', () => {
    const m = ct.find((e) => e.mountPoint === '/mnt/ro')!;
    const extra = parseMountinfo(`${HOST_MOUNTINFO}\n103 100 254:0 / /media/disk rw - ext4 /dev/vda rw`);
    expect(hostPathOf(m, extra)).toBe('/var/lib/sdme/bindsrc');
    expect(hostPathOf(ct.find((e) => e.mountPoint === '/mnt/odd')!, extra)).toBe('/media/disk/etc/unmapped');
    expect(hostPathOf(m, [])).toBeUndefined();
  });

  it('reads this process mountinfo and finds /', () => {
    const mine = readProcMounts('self');
    expect(rootMount(mine)?.mountPoint).toBe('/');
  });
});
