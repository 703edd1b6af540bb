/** Wizard flags -> `sdme create` argv (the preview) and a first-cut isolation estimate. */
import type { CreateFlags } from './engine-port.js';
import type { IsolationFacts } from './isolation.js';

export function defaultFlags(name = ''): CreateFlags {
  return { name, rootfs: '', network: 'host', preset: 'none', dropCaps: [], addCaps: [], binds: [], envs: [] };
}

/** argv after `sdme` */
export function createArgs(f: CreateFlags, started = false): string[] {
  const a = ['create'];
  if (f.name) a.push('--name', f.name);
  if (f.rootfs) a.push('-r', f.rootfs);
  if (f.network === 'private') a.push('--private-network');
  else if (f.network === 'veth') a.push('--network-veth');
  else if (f.network === 'zone') a.push('--network-zone', f.zone ?? '');
  else if (f.network === 'pod') a.push('--pod', f.pod ?? '');
  if (f.preset === 'hardened') a.push('--hardened');
  if (f.preset === 'strict') a.push('--strict');
  if (f.userns && f.preset === 'none') a.push('--userns');
  if (f.noNewPrivileges && f.preset === 'none') a.push('--no-new-privileges');
  if (f.readOnly) a.push('--read-only');
  for (const c of f.dropCaps) a.push('--drop-capability', c);
  for (const c of f.addCaps) a.push('--capability', c);
  if (f.memory) a.push('--memory', f.memory);
  if (f.cpus) a.push('--cpus', f.cpus);
  if (f.cpuWeight) a.push('--cpu-weight', f.cpuWeight);
  for (const b of f.binds) a.push('-b', b);
  for (const e of f.envs) a.push('-e', e);
  if (f.enable) a.push('--enable');
  if (started) a.push('--started');
  return a;
}

/** POSIX-shell quoting for display */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function createCommandLine(f: CreateFlags, started = false): string {
  return ['sdme', ...createArgs(f, started)].map(shellQuote).join(' ');
}

export const NSPAWN_DEFAULT_CAPS = [
  'AUDIT_CONTROL', 'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_OWNER', 'KILL',
  'LEASE', 'LINUX_IMMUTABLE', 'MKNOD', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP',
  'SETUID', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_NICE', 'SYS_PTRACE', 'SYS_RESOURCE', 'SYS_TTY_CONFIG',
].map((c) => 'CAP_' + c);

const STRICT_KEEP = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_ADMIN', 'SYS_CHROOT',
].map((c) => 'CAP_' + c);
const HARDENED_DROP = ['CAP_SYS_PTRACE', 'CAP_NET_RAW', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT'];

export function normCap(c: string): string {
  const u = c.trim().toUpperCase();
  return u.startsWith('CAP_') ? u : 'CAP_' + u;
}

/**
 * Estimate of what the flags give, for the demo port and as a fallback when
 * the engine's resolver is unavailable (the engine's answer wins when present).
 */
export function estimateIsolation(f: CreateFlags): IsolationFacts {
  const preset = f.preset;
  const net = preset !== 'none' && f.network === 'host' ? 'private' : f.network;
  let caps = [...NSPAWN_DEFAULT_CAPS];
  if (net !== 'host' && net !== 'pod') caps.push('CAP_NET_ADMIN');
  if (preset === 'strict') caps = caps.filter((c) => STRICT_KEEP.includes(c));
  if (preset === 'hardened') caps = caps.filter((c) => !HARDENED_DROP.includes(c) || (c === 'CAP_NET_RAW' && (net === 'veth' || net === 'zone')));
  const drops = f.dropCaps.map(normCap);
  const adds = f.addCaps.map(normCap);
  caps = caps.filter((c) => !drops.includes(c) || adds.includes(c));
  for (const c of adds) if (!caps.includes(c)) caps.push(c);
  return {
    caps,
    userns: preset !== 'none' || !!f.userns,
    noNewPrivs: preset !== 'none' || !!f.noNewPrivileges,
    network: net,
    syscallFilter: preset === 'strict' ? ['~@cpu-emulation', '~@debug', '~@obsolete', '~@raw-io'] : [],
    apparmor: preset === 'strict' ? 'sdme-default' : null,
    readOnly: !!f.readOnly,
  };
}
