/**
 * Linux capability names (kernel numbering) and the sets sdme reasons about:
 * the 41 names it accepts and systemd-nspawn's default bounding set.
 */
import { SdmeError } from '../errors.js';

/** All capabilities sdme accepts, indexed by kernel bit number (CHOWN=0 ... CHECKPOINT_RESTORE=40). */
export const KNOWN_CAPS: readonly string[] = Object.freeze([
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL', // 5
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE', // 40
]);

/** systemd-nspawn's default bounding set (26); NET_ADMIN is added by nspawn with private networking. */
export const NSPAWN_DEFAULT_CAPS: readonly string[] = Object.freeze([
  'CAP_AUDIT_CONTROL',
  'CAP_AUDIT_WRITE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_IPC_OWNER',
  'CAP_KILL',
  'CAP_LEASE',
  'CAP_LINUX_IMMUTABLE',
  'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_RAW',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_CHROOT',
  'CAP_SYS_NICE',
  'CAP_SYS_PTRACE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TTY_CONFIG',
]);

const BIT_OF = new Map(KNOWN_CAPS.map((c, i) => [c, i]));

/** Kernel bit number of a normalized cap name, or undefined. */
export function capBit(name: string): number | undefined {
  return BIT_OF.get(name);
}

/** `net_raw` / `NET_RAW` / `cap_net_raw` -> `CAP_NET_RAW`; unknown -> SdmeError. */
export function normalizeCap(input: string): string {
  const up = input.trim().toUpperCase();
  const name = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!BIT_OF.has(name)) throw new SdmeError(`unknown capability '${input}'`);
  return name;
}

/**
 * Names of the capabilities set in a hex mask as printed in /proc/PID/status
 * (`CapBnd: 000001ffffffffff`), in bit order. Bits above 40 show as `cap_N`.
 */
export function capMaskToNames(hexMask: string): string[] {
  const s = hexMask.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]+$/.test(s)) throw new SdmeError(`invalid capability mask '${hexMask}'`);
  let mask = BigInt(`0x${s}`);
  const out: string[] = [];
  for (let bit = 0; mask > 0n; bit++, mask >>= 1n) {
    if (mask & 1n) out.push(KNOWN_CAPS[bit] ?? `cap_${bit}`);
  }
  return out;
}

/** Inverse of capMaskToNames for known names (test helper and isolation report). */
export function capNamesToMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(capBit(normalizeCap(n))!);
  return mask;
}
