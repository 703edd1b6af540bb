import { describe, expect, it } from 'vitest';
import {
  NET_RAW_NOTE,
  STRICT_DROP_CAPS,
  STRICT_SYSCALL_FILTERS,
  resolveSecurity,
} from '../../src/engine/security/presets.js';
import { KNOWN_CAPS } from '../../src/engine/security/caps.js';

const config = { hardened_drop_caps: 'CAP_SYS_PTRACE,CAP_NET_RAW,CAP_SYS_RAWIO,CAP_SYS_BOOT' };

describe('resolveSecurity', () => {
  it('no flags: nothing', () => {
    expect(resolveSecurity({}, config)).toEqual({
      userns: false, noNewPrivs: false, readOnly: false, forcePrivateNetwork: false,
      dropCaps: [], addCaps: [], syscallFilter: [], notes: [],
    });
  });

  it('plain flags are normalised and kept in order, duplicates dropped', () => {
    const r = resolveSecurity({ dropCaps: ['sys_ptrace,net_raw', 'CAP_SYS_PTRACE'], addCaps: ['net_admin'], readOnly: true }, config);
    expect(r.dropCaps).toEqual(['CAP_SYS_PTRACE', 'CAP_NET_RAW']);
    expect(r.addCaps).toEqual(['CAP_NET_ADMIN']);
    expect(r.readOnly).toBe(true);
    expect(r.userns).toBe(false);
  });

  it('--hardened: userns, nnp, private network, config drops', () => {
    const r = resolveSecurity({ hardened: true }, config);
    expect(r).toMatchObject({ userns: true, noNewPrivs: true, forcePrivateNetwork: true });
    expect(r.dropCaps).toEqual(['CAP_SYS_PTRACE', 'CAP_NET_RAW', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT']);
    expect(r.syscallFilter).toEqual([]);
    expect(r.apparmorProfile).toBeUndefined();
  });

  it('--hardened uses the configured list', () => {
    expect(resolveSecurity({ hardened: true }, { hardened_drop_caps: 'sys_module' }).dropCaps).toEqual(['CAP_SYS_MODULE']);
    expect(resolveSecurity({ hardened: true }, { hardened_drop_caps: '' }).dropCaps).toEqual([]);
  });

  it('--hardened + overrides: user drops first, --capability wins over the preset', () => {
    const r = resolveSecurity({ hardened: true, dropCaps: ['CAP_SYS_BOOT', 'CAP_MKNOD'], addCaps: ['CAP_SYS_PTRACE'] }, config);
    expect(r.dropCaps).toEqual(['CAP_SYS_BOOT', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SYS_RAWIO']);
    expect(r.addCaps).toEqual(['CAP_SYS_PTRACE']);
  });

  it('--strict: fixed 27 drops (config ignored), filters, AppArmor sdme-default', () => {
    const r = resolveSecurity({ strict: true }, { hardened_drop_caps: 'CAP_MKNOD' });
    expect(STRICT_DROP_CAPS).toHaveLength(27);
    expect(r.dropCaps).toEqual([...STRICT_DROP_CAPS]);
    expect(r.dropCaps).not.toContain('CAP_MKNOD');
    expect(r.syscallFilter).toEqual(['~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io']);
    expect(r.apparmorProfile).toBe('sdme-default');
    expect(r).toMatchObject({ userns: true, noNewPrivs: true, forcePrivateNetwork: true });
    // what remains is exactly the 14 caps the spec lists
    const kept = KNOWN_CAPS.filter((c) => !r.dropCaps.includes(c));
    expect(kept.sort()).toEqual([
      'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD',
      'CAP_NET_BIND_SERVICE', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_ADMIN', 'CAP_SYS_CHROOT',
    ]);
  });

  it('--strict keeps given filters and profile; given --capability is not dropped', () => {
    const r = resolveSecurity(
      { strict: true, systemCallFilter: ['~@mount'], apparmorProfile: 'mine', addCaps: ['CAP_SYS_NICE'] },
      config,
    );
    expect(r.syscallFilter).toEqual(['~@mount']);
    expect(r.syscallFilter).not.toEqual([...STRICT_SYSCALL_FILTERS]);
    expect(r.apparmorProfile).toBe('mine');
    expect(r.dropCaps).not.toContain('CAP_SYS_NICE');
    expect(r.dropCaps).toHaveLength(26);
  });

  it('--strict and --hardened together behave as --strict', () => {
    expect(resolveSecurity({ strict: true, hardened: true }, config).dropCaps).toEqual([...STRICT_DROP_CAPS]);
  });

  it('CAP_NET_RAW retained with an interface, with a note (presets and plain flags)', () => {
    for (const f of [{ hardened: true }, { strict: true }, { dropCaps: ['net_raw'] }]) {
      const r = resolveSecurity({ ...f, hasInterface: true }, config);
      expect(r.dropCaps).not.toContain('CAP_NET_RAW');
      expect(r.notes).toEqual([NET_RAW_NOTE]);
    }
    expect(NET_RAW_NOTE).toBe('note: retaining CAP_NET_RAW for DHCP on network interface');
    expect(resolveSecurity({ hardened: true, hasInterface: false }, config).dropCaps).toContain('CAP_NET_RAW');
    expect(resolveSecurity({ hasInterface: true }, config).notes).toEqual([]);
  });

  it('same cap in both lists is refused', () => {
    expect(() => resolveSecurity({ addCaps: ['net_raw'], dropCaps: ['CAP_NET_RAW'] }, config)).toThrow(
      'CAP_NET_RAW appears in both --capability and --drop-capability',
    );
  });

  it('invalid inputs', () => {
    expect(() => resolveSecurity({ dropCaps: ['CAP_FOO'] }, config)).toThrow("unknown capability 'CAP_FOO'");
    expect(() => resolveSecurity({ systemCallFilter: ['@'] }, config)).toThrow(/invalid --system-call-filter '@'/);
    expect(() => resolveSecurity({ apparmorProfile: 'a/b' }, config)).toThrow(/invalid --apparmor-profile/);
  });
});
