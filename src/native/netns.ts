/**
 * Persistent network namespaces as bind mounts of nsfs files (what
 * `ip netns add` does, with util-linux `unshare --net=FILE`): the runtime dir
 * is made a shared bind mount of itself so the namespace mounts propagate to
 * (and are unmounted from) later mount namespaces, each namespace starts
 * with only `lo`, up.
 */
import { closeSync, mkdirSync, openSync, rmdirSync, rmSync, statSync, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { LibcError, MS_BIND, MS_REC, MS_SHARED, mount, umount2, MNT_DETACH } from './libc.js';
import { isMountPoint, readMountinfo, type MountEntry } from './mountinfo.js';
import { run, which } from './run.js';

export interface NetnsTools {
  unshare: string;
  nsenter: string;
  ip: string;
}

/** Absolute paths of the tools, or the names of the missing ones. */
export function findNetnsTools(): { tools?: NetnsTools; missing: string[] } {
  const found = { unshare: which('unshare'), nsenter: which('nsenter'), ip: which('ip') };
  const missing = Object.entries(found)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length > 0) return { missing };
  return { tools: found as NetnsTools, missing };
}

/**
 * mkdir -p dir and make it a shared mount: make-shared, and when dir is not
 * a mount point yet (EINVAL) bind it onto itself first, like iproute2 does
 * for /run/netns.
 */
export function ensureSharedMountDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (!isMountPoint(dir)) mount(dir, dir, null, MS_BIND | MS_REC);
  mount(null, dir, null, MS_SHARED | MS_REC);
}

/** True when file is an nsfs mount (a live, persisted namespace). */
export function isNsfsMount(file: string, entries: MountEntry[] = readMountinfo()): boolean {
  return entries.some((e) => e.mountPoint === file && e.fsType === 'nsfs');
}

/** Inode of the namespace behind a persisted netns file (same as /proc/PID/ns/net's). */
export function netnsInode(file: string): number {
  return statSync(file).ino;
}

/**
 * Create a new netns persisted at file with `lo` up. The parent dir is
 * created; a leftover (unmounted) file is reused. On failure nothing stays
 * mounted and the file is removed. Throws Error with the tool's stderr.
 */
export async function createNetns(file: string, tools: NetnsTools): Promise<void> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  closeSync(openSync(file, fsc.O_RDONLY | fsc.O_CREAT, 0o444));
  try {
    const u = await run(tools.unshare, [`--net=${file}`, 'true'], { timeoutMs: 15_000 });
    if (u.exitCode !== 0) throw new Error(`unshare --net=${file}: ${u.stderr.trim() || `exit ${u.exitCode}`}`);
    const lo = await run(tools.nsenter, [`--net=${file}`, '--', tools.ip, 'link', 'set', 'lo', 'up'], { timeoutMs: 15_000 });
    if (lo.exitCode !== 0) throw new Error(`bringing lo up in ${file}: ${lo.stderr.trim() || `exit ${lo.exitCode}`}`);
  } catch (e) {
    removeNetns(file);
    throw e;
  }
}

/**
 * Unmount (lazily: a member may still hold it) and delete a persisted netns
 * file, then rmdir its parent if empty. Missing or unmounted files are fine.
 */
export function removeNetns(file: string, removeParent = true): void {
  // stacked mounts (a racing recreate) come off one per call
  for (let i = 0; i < 8; i++) {
    try {
      umount2(file, MNT_DETACH);
    } catch (e) {
      if (e instanceof LibcError && (e.code === 'EINVAL' || e.code === 'ENOENT')) break;
      throw e;
    }
  }
  rmSync(file, { force: true });
  if (removeParent) {
    try {
      rmdirSync(dirname(file));
    } catch {
      /* not empty or gone */
    }
  }
}

/** Run argv inside the netns (nsenter --net=file -- argv). */
export async function runInNetns(
  file: string,
  tools: Pick<NetnsTools, 'nsenter'>,
  argv: readonly string[],
  timeoutMs = 15_000,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return run(tools.nsenter, [`--net=${file}`, '--', ...argv], { timeoutMs });
}

/** Addresses from `ip -o addr show` output: `ADDR` without prefix, link-local fe80::/10 dropped. */
export function parseIpOneline(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /\s(inet6?)\s+(\S+)/.exec(line);
    if (!m) continue;
    const addr = m[2]!.replace(/\/\d+$/, '');
    if (m[1] === 'inet6' && /^fe[89ab]/i.test(addr)) continue;
    out.push(addr);
  }
  return out;
}
