/**
 * The record of a running sandbox (`STATE_DIR/state`), KEY=VALUE lines.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface SandboxRecord {
  name: string;
  nspawnPid: number;
  leaderPid: number;
  /** 'host' or 'debootstrap' */
  rootfs: 'host' | 'debootstrap';
  /** overlay lowerdir */
  lower: string;
  /** bound checkout, '' when none */
  checkout: string;
  /** unix ms */
  started: number;
}

export function serializeRecord(r: SandboxRecord): string {
  return [
    `CHECKOUT=${r.checkout}`,
    `LEADER_PID=${r.leaderPid}`,
    `LOWER=${r.lower}`,
    `NAME=${r.name}`,
    `NSPAWN_PID=${r.nspawnPid}`,
    `ROOTFS=${r.rootfs}`,
    `STARTED=${r.started}`,
    '',
  ].join('\n');
}

/** undefined when a required key is missing or malformed (treated as no record). */
export function parseRecord(text: string): SandboxRecord | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const num = (k: string): number | undefined => {
    const v = kv.get(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const name = kv.get('NAME');
  const nspawnPid = num('NSPAWN_PID');
  const leaderPid = num('LEADER_PID');
  const started = num('STARTED');
  const rootfs = kv.get('ROOTFS');
  if (!name || nspawnPid === undefined || leaderPid === undefined || started === undefined) return undefined;
  if (rootfs !== 'host' && rootfs !== 'debootstrap') return undefined;
  return { name, nspawnPid, leaderPid, rootfs, lower: kv.get('LOWER') ?? '/', checkout: kv.get('CHECKOUT') ?? '', started };
}

export function readRecord(path: string): SandboxRecord | undefined {
  try {
    return parseRecord(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export function writeRecord(path: string, r: SandboxRecord): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeRecord(r), { mode: 0o600 });
  renameSync(tmp, path);
}
