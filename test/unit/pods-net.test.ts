import { lstat, mkdir, mkdtemp, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpOneline } from '../../src/native/netns.js';
import { IFNAMSIZ } from '../../src/engine/network/ifnames.js';
import {
  RESOLV_PLACEHOLDER,
  applyResolvConf,
  parseDhcpLease,
  podIfaceFor,
  podNetUnit,
  renderPodNetUnit,
} from '../../src/engine/network/pod-net.js';
import type { PodState } from '../../src/engine/network/pod-state.js';
import { formatPodTable } from '../../src/cli/pods.js';
import { podInfo } from '../../src/engine/network/pods.js';

/** A BOOTP reply as dhcpcd stores it: 236-byte header, magic cookie, options. */
function lease(options: [number, number[]][]): Buffer {
  const parts: number[] = [...new Array<number>(236).fill(0), 0x63, 0x82, 0x53, 0x63];
  for (const [code, data] of options) parts.push(code, data.length, ...data);
  parts.push(255);
  return Buffer.from(parts);
}
const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
const labels = (...ls: string[]) => ls.flatMap((l) => [l.length, ...ascii(l)]);

describe('parseDhcpLease', () => {
  it('reads DNS servers (deduped), domain search with compression pointers and the domain name', () => {
    const search = [...labels('corp', 'example', 'org'), 0, ...labels('lab'), 0xc0, 5];
    const buf = lease([
      [53, [5]],
      [6, [10, 0, 0, 53, 192, 168, 1, 1, 10, 0, 0, 53]],
      [119, search],
      [15, ascii('example.org')],
    ]);
    expect(parseDhcpLease(buf)).toEqual({
      dns: ['10.0.0.53', '192.168.1.1'],
      search: ['corp.example.org', 'lab.example.org', 'example.org'],
    });
  });

  it('joins split options (RFC 3396) and skips pad bytes', () => {
    const head = [...new Array<number>(236).fill(0), 0x63, 0x82, 0x53, 0x63];
    const buf = Buffer.from([...head, 6, 4, 1, 1, 1, 1, 0, 0, 6, 4, 9, 9, 9, 9, 255]);
    expect(parseDhcpLease(buf).dns).toEqual(['1.1.1.1', '9.9.9.9']);
  });

  it('drops names that are unsafe in resolv.conf and tolerates junk', () => {
    expect(parseDhcpLease(lease([[15, ascii('evil\nnameserver 6.6.6.6')]])).search).toEqual([]);
    expect(parseDhcpLease(Buffer.from('not a lease'))).toEqual({ dns: [], search: [] });
    // a pointer loop ends the list instead of hanging
    expect(parseDhcpLease(lease([[119, [0xc0, 0]]])).search).toEqual([]);
  });
});

describe('pod interface names (case veth-name-collisions, pod half)', () => {
  it('frontend-aa and frontend-bb get distinct names of at most 15 bytes', () => {
    const a = podIfaceFor('frontend-aa', 'veth', []);
    const b = podIfaceFor('frontend-bb', 'veth', []);
    expect(a).not.toBe(b);
    for (const n of [a, b]) {
      expect(Buffer.byteLength(n)).toBeLessThan(IFNAMSIZ);
      expect(n.startsWith('ve-pod-fron')).toBe(true);
    }
    expect(podIfaceFor('p1', 'veth', [])).toBe('ve-pod-p1');
    expect(podIfaceFor('p1', 'zone', [])).toBe('vb-pod-p1');
  });

  it('refuses a name already owned by another pod or container, naming the clash', () => {
    const mine = podIfaceFor('frontend-aa', 'veth', []);
    expect(() => podIfaceFor('frontend-aa', 'veth', [{ kind: 'pod', name: 'other', ifname: mine }])).toThrow(
      `host interface name '${mine}' of pod 'frontend-aa' clashes with pod 'other'`,
    );
    expect(() => podIfaceFor('p1', 'veth', [{ kind: 'container', name: 'pod-p1', ifname: 've-pod-p1' }])).toThrow(
      /clashes with container 'pod-p1'/,
    );
    // its own earlier record is not a clash
    expect(podIfaceFor('p1', 'veth', [{ kind: 'pod', name: 'p1', ifname: 've-pod-p1' }])).toBe('ve-pod-p1');
  });
});

describe('dhcpcd unit', () => {
  it('runs dhcpcd in the pod netns with no hooks and per-pod state dirs', () => {
    const t = renderPodNetUnit('/usr/sbin/dhcpcd', '/run/sdme/pods');
    expect(t).toContain('NetworkNamespacePath=/run/sdme/pods/%i/netns\n');
    expect(t).toContain('BindPaths=/run/sdme/pods/%i/dhcpcd:/run/dhcpcd /run/sdme/pods/%i/dhcpcd-db:/var/lib/dhcpcd\n');
    expect(t).toMatch(/^ExecStart=\/usr\/sbin\/dhcpcd -f \/dev\/null -c \/bin\/true .* host0$/m);
    expect(t).toContain('Type=forking\n');
    expect(podNetUnit('frontend-aa')).toBe('sdme-pod-net@frontend-aa.service');
  });
});

describe('parseIpOneline', () => {
  it('keeps global v4/v6 addresses without prefix, drops link-local', () => {
    const out =
      '2: host0    inet 192.168.187.146/28 brd 192.168.187.159 scope global dynamic host0\\ valid_lft 3600sec\n' +
      '2: host0    inet6 fd00::5/64 scope global \\ valid_lft forever\n' +
      '2: host0    inet6 fe80::acfe:6bff:febe:da1c/64 scope link \\ valid_lft forever\n';
    expect(parseIpOneline(out)).toEqual(['192.168.187.146', 'fd00::5']);
  });
});

const pod = (dns: string[], search: string[] = []): PodState => ({
  name: 'p1',
  created: 1_700_000_000,
  netMode: dns.length ? 'veth' : undefined,
  netDns: dns,
  netSearch: search,
  extra: {},
});

describe('applyResolvConf', () => {
  async function root(): Promise<string> {
    const r = await mkdtemp(join(tmpdir(), 'sdme-pod-resolv-'));
    await mkdir(join(r, 'etc'));
    return r;
  }

  it('replaces the stub symlink with the generated file, then puts the fallback back', async () => {
    const r = await root();
    await symlink('../run/systemd/resolve/stub-resolv.conf', join(r, 'etc/resolv.conf'));
    expect(await applyResolvConf(r, pod(['10.0.0.53'], ['corp.example.org']))).toBe(true);
    expect((await lstat(join(r, 'etc/resolv.conf'))).isFile()).toBe(true);
    expect(await readFile(join(r, 'etc/resolv.conf'), 'utf8')).toBe(
      '# Generated by sdme from pod DHCP lease\nnameserver 10.0.0.53\nsearch corp.example.org\n',
    );
    expect(await applyResolvConf(r, pod(['10.0.0.53'], ['corp.example.org']))).toBe(false);
    expect(await applyResolvConf(r, pod([]))).toBe(true);
    expect(await readFile(join(r, 'etc/resolv.conf'), 'utf8')).toBe(RESOLV_PLACEHOLDER);
  });

  it('never removes a resolv.conf sdme did not generate', async () => {
    const r = await root();
    await writeFile(join(r, 'etc/resolv.conf'), 'nameserver 1.2.3.4\n');
    expect(await applyResolvConf(r, pod([]))).toBe(false);
    expect(await readFile(join(r, 'etc/resolv.conf'), 'utf8')).toBe('nameserver 1.2.3.4\n');
    await symlink('/nowhere', join(r, 'etc/other'));
    expect(await readlink(join(r, 'etc/other'))).toBe('/nowhere');
  });
});

describe('formatPodTable', () => {
  it('prints the table with dashes for empty cells and "no pods found" when empty', () => {
    const a = podInfo(pod([]), true, [{ name: 'web', pod_mode: 'pod' }], []);
    const b = podInfo({ ...pod(['10.0.0.53']), name: 'p2', netMode: 'zone', netZone: 'z1' }, false, [], ['192.168.1.5']);
    const lines = formatPodTable([a, b]).trimEnd().split('\n');
    expect(lines[0]).toBe('NAME  ACTIVE  NET   ZONE  ADDRESSES    CREATED');
    expect(lines[1]).toMatch(/^p1    yes     -     -     -            \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(lines[2]).toMatch(/^p2    no      zone  z1    192\.168\.1\.5  \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(formatPodTable([])).toBe('no pods found\n');
    expect(a).toMatchObject({ created_at: 1_700_000_000, net_mode: null, containers: [{ name: 'web', pod_mode: 'pod' }] });
  });
});
