/**
 * /proc readers for finding a sandbox's nspawn and its systemd leader.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
}

/** Parses /proc/PID/stat text (comm may contain spaces and parens). */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Alive = exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const s = readStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

export function readCmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const parts = raw.split('\0');
    if (parts.at(-1) === '') parts.pop();
    return parts;
  } catch {
    return [];
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of allPids()) {
    const s = readStat(p);
    if (s && s.ppid === pid && s.state !== 'Z') out.push(p);
  }
  return out;
}

/** True when argv is a systemd-nspawn booting machine `name`. */
export function isNspawnFor(argv: readonly string[], name: string): boolean {
  if (argv.length === 0 || !/(^|\/)systemd-nspawn$/.test(argv[0]!)) return false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--machine=${name}` || a === `-M${name}`) return true;
    if ((a === '--machine' || a === '-M') && argv[i + 1] === name) return true;
  }
  return false;
}

/** Live systemd-nspawn processes whose machine name is `name`. */
export function findNspawn(name: string): number[] {
  return allPids().filter((p) => isAlive(p) && isNspawnFor(readCmdline(p), name));
}

/** The container's init as seen from the host: nspawn's child once it has exec'd systemd. */
export function findLeader(nspawnPid: number): number | undefined {
  for (const c of childrenOf(nspawnPid)) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${c}/exe`);
    } catch {
      continue;
    }
    if (/\/systemd$/.test(exe)) return c;
  }
  return undefined;
}
