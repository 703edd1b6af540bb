import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KNOWN_CAPS,
  NSPAWN_DEFAULT_CAPS,
  capBit,
  capMaskToNames,
  capNamesToMask,
  normalizeCap,
} from '../../src/engine/security/caps.js';

describe('capability tables', () => {
  it('41 known caps, 26 nspawn defaults, all defaults known', () => {
    expect(KNOWN_CAPS).toHaveLength(41);
    expect(new Set(KNOWN_CAPS).size).toBe(41);
    expect(NSPAWN_DEFAULT_CAPS).toHaveLength(26);
    for (const c of NSPAWN_DEFAULT_CAPS) expect(KNOWN_CAPS).toContain(c);
    expect(NSPAWN_DEFAULT_CAPS).not.toContain('CAP_NET_ADMIN');
  });

  it('bit numbers from the spec', () => {
    expect(capBit('CAP_CHOWN')).toBe(0);
    expect(capBit('CAP_NET_ADMIN')).toBe(12);
    expect(capBit('CAP_NET_RAW')).toBe(13);
    expect(capBit('CAP_SYS_RAWIO')).toBe(17);
    expect(capBit('CAP_SYS_PTRACE')).toBe(19);
    expect(capBit('CAP_SYS_ADMIN')).toBe(21);
    expect(capBit('CAP_SYS_BOOT')).toBe(22);
    expect(capBit('CAP_CHECKPOINT_RESTORE')).toBe(40);
  });

  const header = '/usr/include/linux/capability.h';
  it.skipIf(!existsSync(header))('bit numbers match the kernel header', () => {
    const defs = [...readFileSync(header, 'utf8').matchAll(/#define (CAP_[A-Z_]+)\s+(\d+)\s*$/gm)]
      .map((m) => [m[1]!, Number(m[2])] as const)
      .filter(([n]) => n !== 'CAP_LAST_CAP');
    expect(defs.length).toBeGreaterThanOrEqual(41);
    for (const [name, bit] of defs) expect([name, capBit(name)]).toEqual([name, bit]);
  });
});

describe('normalizeCap', () => {
  it.each([
    ['net_raw', 'CAP_NET_RAW'],
    ['NET_RAW', 'CAP_NET_RAW'],
    ['cap_sys_admin', 'CAP_SYS_ADMIN'],
    [' CAP_BPF ', 'CAP_BPF'],
  ])('%j -> %s', (i, o) => expect(normalizeCap(i)).toBe(o));
  it('unknown names', () => {
    expect(() => normalizeCap('foo')).toThrow("unknown capability 'foo'");
    expect(() => normalizeCap('CAP_')).toThrow("unknown capability 'CAP_'");
    expect(() => normalizeCap('')).toThrow('unknown capability');
  });
});

describe('capMaskToNames', () => {
  it('decodes /proc status masks', () => {
    expect(capMaskToNames('0000000000000000')).toEqual([]);
    expect(capMaskToNames('0000000000003000')).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
    expect(capMaskToNames('0x1ff')).toEqual([
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
    ]);
    expect(capMaskToNames('000001ffffffffff')).toEqual(KNOWN_CAPS);
    expect(capMaskToNames('0000030000000000')).toEqual(['CAP_CHECKPOINT_RESTORE', 'cap_41']);
  });
  it('round-trips the nspawn default set', () => {
    const mask = capNamesToMask(NSPAWN_DEFAULT_CAPS);
    expect(capMaskToNames(mask.toString(16)).sort()).toEqual([...NSPAWN_DEFAULT_CAPS].sort());
    expect(mask.toString(16)).toBe('fdecafff'); // capsh --decode=0xfdecafff lists the same 26
  });
  it('rejects non-hex', () => {
    expect(() => capMaskToNames('xyz')).toThrow(/invalid capability mask/);
  });
});
