import { describe, expect, it } from 'vitest';
import { formatPsTable, formatTable, pickFormat } from '../../src/cli/ps-format.js';
import type { ContainerInfo } from '../../src/engine/types.js';

function row(name: string, over: Partial<ContainerInfo> = {}, net: Partial<ContainerInfo['network']> = {}): ContainerInfo {
  return {
    name,
    status: 'stopped',
    health: 'ok',
    os: 'Debian GNU/Linux 12 (bookworm)',
    rootfs: '',
    userns: false,
    enabled: false,
    binds: [],
    oci_apps: [],
    submounts: [],
    network: {
      private_network: false,
      network_veth: false,
      network_bridge: null,
      network_zone: null,
      ports: [],
      pod: null,
      oci_pod: null,
      ...net,
    },
    limits: { memory: null, cpus: null, cpu_weight: null, disk: null },
    disk_used: null,
    kube: null,
    addresses: [],
    ...over,
  };
}

describe('formatTable', () => {
  it('pads to max(content, header) with two-space gaps and no trailing spaces', () => {
    expect(formatTable(['A', 'LONGHEAD', 'C'], [['xyz', 'b', 'c'], ['q', 'bb', '']])).toBe(
      'A    LONGHEAD  C\nxyz  b         c\nq    bb\n',
    );
  });
});

describe('formatPsTable', () => {
  it('says so when empty', () => {
    expect(formatPsTable([])).toBe('no containers found\n');
  });

  it('has the fixed columns and yes/no cells', () => {
    const text = formatPsTable([
      row('web-1', { status: 'running', userns: true, enabled: true, binds: ['/srv:/srv:ro'], addresses: ['10.0.0.2', 'fd00::2'] }),
      row('a-b-c', { health: 'missing container dir', os: 'unknown' }),
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('NAME   STATUS   HEALTH                 USERNS  ENABLED  MOUNTS  ADDRESSES         OS');
    expect(lines[1]).toBe('web-1  running  ok                     yes     yes      yes     10.0.0.2,fd00::2  Debian GNU/Linux 12 (bookworm)');
    expect(lines[2]).toBe('a-b-c  stopped  missing container dir  no      no       no      -                 unknown');
  });

  it('adds POD only when a container is in a pod, and DISK only with a disk cap', () => {
    const noPod = formatPsTable([row('a'), row('b')]);
    expect(noPod.split('\n')[0]).not.toContain('POD');
    expect(noPod.split('\n')[0]).not.toContain('DISK');
    const withPod = formatPsTable([row('a', {}, { pod: 'p1' }), row('b'), row('c', {}, { oci_pod: 'p2' })]);
    const [h, a, b, c] = withPod.split('\n');
    expect(h).toBe('NAME  STATUS   HEALTH  USERNS  ENABLED  MOUNTS  POD     ADDRESSES  OS');
    expect(a!.split(/\s{2,}/)[6]).toBe('p1');
    expect(b!.split(/\s{2,}/)[6]).toBe('-');
    expect(c!.split(/\s{2,}/)[6]).toBe('oci:p2');
    const withDisk = formatPsTable([row('a', { limits: { memory: null, cpus: null, cpu_weight: null, disk: '1G' } })]);
    expect(withDisk.split('\n')[0]).toContain('MOUNTS  DISK  ADDRESSES');
    expect(withDisk.split('\n')[1]).toContain('-/1G');
  });
});

describe('pickFormat', () => {
  it('flags win over the config default', () => {
    expect(pickFormat({}, '')).toBe('table');
    expect(pickFormat({}, 'json')).toBe('json');
    expect(pickFormat({ jsonPretty: true }, 'json')).toBe('json-pretty');
    expect(pickFormat({ json: true }, 'json-pretty')).toBe('json');
    expect(pickFormat({}, 'yaml')).toBe('table');
  });
});
