import { describe, expect, it } from 'vitest';
import {
  assertNoIfnameClash,
  containerIfaceOwners,
  hostVethName,
  podHostIfaceName,
  shortenIfname,
} from '../../src/engine/network/ifnames.js';
import { siphash24 } from '../../src/engine/network/siphash24.js';

describe('siphash24', () => {
  // reference vectors from the SipHash paper (key 00..0f, message 00..len-1)
  const key = Uint8Array.from({ length: 16 }, (_, i) => i);
  const msg = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  it.each([
    [0, 0x726fdb47dd0e0e31n],
    [1, 0x74f839c593dc67fdn],
    [8, 0x93f5f5799a932462n],
    [15, 0xa129ca6149be45e5n],
  ])('len %i', (n, want) => expect(siphash24(msg(n), key)).toBe(want));
});

describe('nspawn host interface names (systemd 252, observed with nspawn in a private netns)', () => {
  it.each([
    ['ve-helloabcdef12', 've-helloabcTxom'],
    ['ve-helloabcdef13', 've-helloabcmBUn'],
    ['vb-helloabcdef12', 'vb-helloabcMkvR'],
    ['vb-zonemachine-longname', 'vb-zonemachAU-p'],
    ['ve-web-frontend-1', 've-web-fronOyYQ'],
    ['ve-a-very-long-container-name-64-chars-xxxxxxxxxxxxxxxxxxxxxxxxxxx', 've-a-very-lSGlr'],
    ['ve-helloabcdef1', 've-helloabcdef1'],
    ['ve-short', 've-short'],
  ])('%s -> %s', (i, o) => {
    expect(shortenIfname(i)).toBe(o);
    expect(Buffer.byteLength(shortenIfname(i))).toBeLessThanOrEqual(15);
  });

  const c = (name: string, net: { veth?: boolean; bridge?: string; zone?: string }) => ({
    name,
    networkVeth: !!net.veth,
    networkBridge: net.bridge,
    networkZone: net.zone,
  });
  it('prefix follows the mode', () => {
    expect(hostVethName(c('web', { veth: true }))).toBe('ve-web');
    expect(hostVethName(c('web', { bridge: 'br0' }))).toBe('vb-web');
    expect(hostVethName(c('web', { zone: 'lab', veth: true }))).toBe('vb-web');
    expect(hostVethName(c('web', {}))).toBeUndefined();
  });
  it('pod interfaces are shortened the same way (frontend-aa vs frontend-bb differ)', () => {
    const a = podHostIfaceName('frontend-aa', 'veth');
    const b = podHostIfaceName('frontend-bb', 'veth');
    expect(a).not.toBe(b);
    expect(a.startsWith('ve-pod-fron')).toBe(true);
    expect(podHostIfaceName('p1', 'zone')).toBe('vb-pod-p1');
  });

  it('the case names helloabcdef1/2 fit in 15 bytes and do not clash', () => {
    const others = containerIfaceOwners([c('helloabcdef1', { veth: true })]);
    expect(() => assertNoIfnameClash(c('helloabcdef2', { veth: true }), others)).not.toThrow();
  });

  it('two distinct names whose hashed names collide (verified with nspawn 252) are refused', () => {
    expect(hostVethName(c('helloabcdef-5371', { veth: true }))).toBe('ve-helloabcYmVZ');
    expect(hostVethName(c('helloabcdef-7054', { veth: true }))).toBe('ve-helloabcYmVZ');
    const others = containerIfaceOwners([c('helloabcdef-5371', { veth: true })]);
    expect(() => assertNoIfnameClash(c('helloabcdef-7054', { veth: true }), others)).toThrow(
      "host interface name 've-helloabcYmVZ' of container 'helloabcdef-7054' clashes with container 'helloabcdef-5371'",
    );
    // bridge mode uses vb-, so the same pair does not clash across modes
    expect(() => assertNoIfnameClash(c('helloabcdef-7054', { bridge: 'br0' }), others)).not.toThrow();
  });

  it('a clash is refused naming both sides; self and other modes do not count', () => {
    // same 11-byte prefix, same hash => same name: construct by reusing the name under a different owner kind
    const pods = [{ kind: 'pod' as const, name: 'x', ifname: shortenIfname('ve-pod-frontend-aa') }];
    expect(() => assertNoIfnameClash(c('pod-frontend-aa', { veth: true }), pods)).toThrow(
      /host interface name 've-pod-fron.{4}' of container 'pod-frontend-aa' clashes with pod 'x'/,
    );
    const others = containerIfaceOwners([c('web', { veth: true }), c('db', { bridge: 'br0' }), c('off', {})]);
    expect(others).toEqual([
      { kind: 'container', name: 'web', ifname: 've-web' },
      { kind: 'container', name: 'db', ifname: 'vb-db' },
    ]);
    expect(() => assertNoIfnameClash(c('web', { veth: true }), others)).not.toThrow(); // itself
    expect(() => assertNoIfnameClash(c('db', { veth: true }), others)).not.toThrow(); // ve-db vs vb-db
    expect(() => assertNoIfnameClash(c('db2', {}), others)).not.toThrow();
    expect(() =>
      assertNoIfnameClash(c('web', { veth: true }), [{ kind: 'container', name: 'web2', ifname: 've-web' }]),
    ).toThrow(/clashes with container 'web2'/);
  });
});
