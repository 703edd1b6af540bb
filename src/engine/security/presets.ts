/**
 * --hardened / --strict and the capability lists (network-pods-security.md
 * §3, §4). Pure: flags + config in, resolved security settings + notes out.
 */
import type { Config } from '../catalogue/config.js';
import { SdmeError } from '../errors.js';
import { normalizeCap } from './caps.js';
import { parseSyscallFilters, validateApparmorProfile } from './validate.js';

/** `--strict` drops (27); everything but the 14 caps a booted OS needs. */
export const STRICT_DROP_CAPS: readonly string[] = Object.freeze([
  'CAP_AUDIT_CONTROL', 'CAP_AUDIT_READ', 'CAP_BLOCK_SUSPEND', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
  'CAP_DAC_READ_SEARCH', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_LEASE', 'CAP_LINUX_IMMUTABLE',
  'CAP_MAC_ADMIN', 'CAP_MAC_OVERRIDE', 'CAP_NET_ADMIN', 'CAP_NET_BROADCAST', 'CAP_NET_RAW',
  'CAP_PERFMON', 'CAP_SYS_BOOT', 'CAP_SYS_MODULE', 'CAP_SYS_NICE', 'CAP_SYS_PACCT',
  'CAP_SYS_PTRACE', 'CAP_SYS_RAWIO', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG',
  'CAP_SYSLOG', 'CAP_WAKE_ALARM',
]);

/** `--strict` seccomp filters, used only when no --system-call-filter is given. */
export const STRICT_SYSCALL_FILTERS: readonly string[] = Object.freeze([
  '~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io',
]);

/** `--strict` AppArmor profile unless --apparmor-profile is given. */
export const STRICT_APPARMOR_PROFILE = 'sdme-default';

export const NET_RAW_NOTE = 'note: retaining CAP_NET_RAW for DHCP on network interface';

export interface SecurityFlags {
  userns?: boolean;
  /** values of --drop-capability (each may be a comma list) */
  dropCaps?: readonly string[];
  /** values of --capability (each may be a comma list) */
  addCaps?: readonly string[];
  noNewPrivileges?: boolean;
  readOnly?: boolean;
  systemCallFilter?: readonly string[];
  apparmorProfile?: string;
  hardened?: boolean;
  strict?: boolean;
  /** container has --network-veth/--network-bridge/--network-zone (keeps CAP_NET_RAW for DHCP) */
  hasInterface?: boolean;
}

export interface ResolvedSecurity {
  userns: boolean;
  noNewPrivs: boolean;
  readOnly: boolean;
  /** true when --hardened/--strict force PRIVATE_NETWORK */
  forcePrivateNetwork: boolean;
  dropCaps: string[];
  addCaps: string[];
  syscallFilter: string[];
  apparmorProfile?: string;
  notes: string[];
}

/** Normalise a list of cap flag values (comma lists allowed), dropping duplicates, keeping order. */
export function normalizeCapList(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const item of v.split(',')) {
      if (item.trim() === '') continue;
      const c = normalizeCap(item);
      if (!out.includes(c)) out.push(c);
    }
  }
  return out;
}

/**
 * Resolve the security flags and presets. Drop order: user drops first, then
 * preset drops not already present and not granted by --capability.
 */
export function resolveSecurity(
  flags: SecurityFlags,
  config: Pick<Config, 'hardened_drop_caps'>,
): ResolvedSecurity {
  const addCaps = normalizeCapList(flags.addCaps);
  const dropCaps = normalizeCapList(flags.dropCaps);
  for (const c of addCaps) {
    if (dropCaps.includes(c)) throw new SdmeError(`${c} appears in both --capability and --drop-capability`);
  }
  const preset = flags.strict || flags.hardened;
  const presetDrops = flags.strict ? STRICT_DROP_CAPS : flags.hardened ? normalizeCapList([config.hardened_drop_caps]) : [];
  for (const c of presetDrops) {
    if (!addCaps.includes(c) && !dropCaps.includes(c)) dropCaps.push(c);
  }

  let syscallFilter = parseSyscallFilters(flags.systemCallFilter ?? []);
  if (flags.strict && syscallFilter.length === 0) syscallFilter = [...STRICT_SYSCALL_FILTERS];

  let apparmorProfile = flags.apparmorProfile !== undefined ? validateApparmorProfile(flags.apparmorProfile) : undefined;
  if (flags.strict && apparmorProfile === undefined) apparmorProfile = STRICT_APPARMOR_PROFILE;

  const notes: string[] = [];
  const rawAt = dropCaps.indexOf('CAP_NET_RAW');
  if (flags.hasInterface && rawAt >= 0) {
    dropCaps.splice(rawAt, 1);
    notes.push(NET_RAW_NOTE);
  }

  const out: ResolvedSecurity = {
    userns: !!(flags.userns || preset),
    noNewPrivs: !!(flags.noNewPrivileges || preset),
    readOnly: !!flags.readOnly,
    forcePrivateNetwork: !!preset,
    dropCaps,
    addCaps,
    syscallFilter,
    notes,
  };
  if (apparmorProfile !== undefined) out.apparmorProfile = apparmorProfile;
  return out;
}
