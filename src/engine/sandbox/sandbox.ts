/**
 * The disposable systemd host: an overlay clone of the machine's root (or of a
 * cached debootstrap root) booted with systemd-nspawn in its own network
 * namespace. e2e tests run inside it through nsenter.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import stripAnsi from 'strip-ansi';
import { mount, MNT_DETACH, umount2 } from '../../native/libc.js';
import { isMountPoint } from '../../native/mountinfo.js';
import { run } from '../../native/run.js';
import { safeRemoveDir } from '../catalogue/safe-remove.js';
import { checkInterrupt, SdmeError } from '../errors.js';
import { buildSandboxArgv, innerEnv, nsenterArgv } from './argv.js';
import { nodeBindsForForeignRoot, prepareUpper, writeCheckoutWrappers } from './clone.js';
import { ensureDebootstrapRoot, hasSystemd } from './debootstrap.js';
import { lockSandbox } from './lock.js';
import { SANDBOX_BASE, SANDBOX_CACHE, sandboxPaths, validateSandboxName, type SandboxPaths } from './paths.js';
import { childrenOf, findLeader, findNspawn, isAlive, isNspawnFor, readCmdline, readStat } from './procs.js';
import { spawnDetached } from './spawn.js';
import { readRecord, writeRecord, type SandboxRecord } from './state.js';
import { requireTool } from './tools.js';

export { DEFAULT_SANDBOX_NAME, SANDBOX_BASE, SANDBOX_CACHE, sandboxPaths } from './paths.js';

export interface SandboxCommon {
  name: string;
  /** parent of state dirs (default /var/tmp/sdme-sandbox) */
  base?: string;
  /** PATH used to find systemd-nspawn, nsenter, debootstrap (default process.env.PATH) */
  pathEnv?: string;
  note?: (msg: string) => void;
  signal?: AbortSignal;
}

export interface SandboxUpOptions extends SandboxCommon {
  /** absolute path of a project checkout to bind at the same path inside */
  bindCheckout?: string;
  /** default: 'host' when the machine's root has systemd, else 'debootstrap' */
  rootfs?: 'host' | 'debootstrap';
  /** debootstrap cache dir (default /var/cache/sdme-sandbox) */
  cacheDir?: string;
  /** boot timeout (default 60 s) */
  timeoutMs?: number;
}

export interface SandboxInfo {
  name: string;
  /** 'down': nothing there; 'stale': state dir without a live nspawn; else systemd's state inside */
  state: string;
  nspawnPid: number | null;
  leaderPid: number | null;
  rootfs: string | null;
  checkout: string | null;
  systemdVersion: string | null;
  uptimeSec: number | null;
  dir: string;
}

export interface SandboxUpResult {
  record: SandboxRecord;
  /** false when it was already up (nothing was done) */
  started: boolean;
  /** ms spent booting */
  bootMs: number;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new SdmeError('sdme sandbox must run as root (it mounts an overlay and boots systemd-nspawn)');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The record when its nspawn and leader are alive and really are this sandbox's. */
function liveRecord(p: SandboxPaths): SandboxRecord | undefined {
  const r = readRecord(p.stateFile);
  if (!r) return undefined;
  if (!isAlive(r.nspawnPid) || !isNspawnFor(readCmdline(r.nspawnPid), p.name)) return undefined;
  if (!isAlive(r.leaderPid) || readStat(r.leaderPid)?.ppid !== r.nspawnPid) return undefined;
  return r;
}

function consoleTail(p: SandboxPaths, lines = 15): string {
  try {
    return stripAnsi(readFileSync(p.consoleLog, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console output)';
  }
}

export async function sandboxUp(o: SandboxUpOptions): Promise<SandboxUpResult> {
  requireRoot();
  const name = validateSandboxName(o.name);
  const nspawn = requireTool('systemd-nspawn', o.pathEnv);
  const nsenter = requireTool('nsenter', o.pathEnv);
  const p = sandboxPaths(name, o.base ?? SANDBOX_BASE);
  const lock = lockSandbox(p.lockFile, name);
  try {
    const live = liveRecord(p);
    if (live) {
      if (o.bindCheckout && live.checkout !== o.bindCheckout) {
        throw new SdmeError(
          `sandbox '${name}' is up without ${o.bindCheckout} bound: bring it down first (sdme sandbox down --name ${name})`,
        );
      }
      if (o.rootfs && live.rootfs !== o.rootfs) {
        throw new SdmeError(`sandbox '${name}' is up on the ${live.rootfs} root: bring it down first (sdme sandbox down --name ${name})`);
      }
      // the caller decides whether a no-op is worth saying (started: false)
      return { record: live, started: false, bootMs: 0 };
    }
    // an nspawn our record names but that never finished booting is ours (stale), not foreign
    const recorded = readRecord(p.stateFile)?.nspawnPid;
    const foreign = findNspawn(name).filter((pid) => pid !== recorded);
    if (foreign.length > 0) {
      throw new SdmeError(
        `a systemd-nspawn for machine '${name}' is already running (pid ${foreign.join(', ')}) that this sandbox did not start: refusing a second copy`,
      );
    }
    if (existsSync(p.dir)) {
      o.note?.(`cleaning up a stale sandbox '${name}'`);
      await teardown(p, readRecord(p.stateFile), nsenter, o.note, 0);
    }
    const t0 = Date.now();
    try {
      const record = await bringUp(o, p, nspawn, nsenter);
      return { record, started: true, bootMs: Date.now() - t0 };
    } catch (e) {
      // a half-booted systemd may not power off: kill it
      await teardown(p, readRecord(p.stateFile), undefined, o.note, 0).catch(() => undefined);
      throw e;
    }
  } finally {
    lock.release();
  }
}

async function bringUp(o: SandboxUpOptions, p: SandboxPaths, nspawn: string, nsenter: string): Promise<SandboxRecord> {
  const want = o.rootfs ?? (hasSystemd('/') ? 'host' : 'debootstrap');
  if (want === 'host' && !hasSystemd('/')) {
    throw new SdmeError("this machine's root has no systemd to clone: use --rootfs debootstrap");
  }
  if (o.bindCheckout && !existsSync(o.bindCheckout)) throw new SdmeError(`checkout not found: ${o.bindCheckout}`);
  const lower =
    want === 'host'
      ? '/'
      : await ensureDebootstrapRoot({ cacheDir: o.cacheDir ?? SANDBOX_CACHE, pathEnv: o.pathEnv, note: o.note, signal: o.signal });
  checkInterrupt(o.signal);

  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  // the overlay root takes upper's mode: 0755, or non-root services cannot traverse /
  for (const d of [p.upper, p.work, p.merged, p.data]) mkdirSync(d, { mode: 0o755 });
  prepareUpper(p.upper, lower, p.name);
  const roBinds = want === 'debootstrap' ? nodeBindsForForeignRoot(p.upper, process.execPath) : [];
  // `sdme` and `sdme-tui` by name inside (node is the host's: same path in a clone, bound in a debootstrap root)
  if (o.bindCheckout) writeCheckoutWrappers(p.upper, lower, o.bindCheckout, process.execPath);
  mount('overlay', p.merged, 'overlay', 0, `lowerdir=${lower},upperdir=${p.upper},workdir=${p.work}`);

  const argv = buildSandboxArgv({
    name: p.name,
    merged: p.merged,
    data: p.data,
    checkout: o.bindCheckout,
    roBinds,
    machineId: randomBytes(16).toString('hex'),
  });
  const nspawnPid = await spawnDetached(nspawn, argv, p.consoleLog);
  const record: SandboxRecord = {
    name: p.name,
    nspawnPid,
    leaderPid: 0,
    rootfs: want,
    lower,
    checkout: o.bindCheckout ?? '',
    started: Date.now(),
  };
  writeRecord(p.stateFile, record);

  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  const fail = (why: string) =>
    new SdmeError(`sandbox '${p.name}' did not boot: ${why}\n--- console (last lines of ${p.consoleLog}) ---\n${consoleTail(p)}`);

  // wait for nspawn's child to become systemd
  while (record.leaderPid === 0) {
    checkInterrupt(o.signal);
    if (!isAlive(nspawnPid)) throw fail('systemd-nspawn exited');
    if (Date.now() > deadline) throw fail('timed out waiting for systemd to start');
    record.leaderPid = findLeader(nspawnPid) ?? 0;
    if (record.leaderPid === 0) await sleep(50);
  }
  writeRecord(p.stateFile, record);

  // then for the boot to finish
  for (;;) {
    checkInterrupt(o.signal);
    if (!isAlive(nspawnPid)) throw fail('systemd-nspawn exited');
    const left = deadline - Date.now();
    if (left <= 0) throw fail('timed out waiting for is-system-running');
    const r = await run(nsenter, nsenterArgv(record.leaderPid, ['systemctl', 'is-system-running', '--wait']), {
      timeoutMs: left,
      signal: o.signal,
    });
    const state = r.stdout.trim();
    if (state === 'running' || state === 'degraded') {
      if (state === 'degraded') o.note?.(`sandbox '${p.name}' booted degraded (see: sdme sandbox run -- systemctl --failed)`);
      return record;
    }
    // 'offline' and connection errors are normal while PID 1 sets up its sockets
    if (state === 'maintenance' || state === 'stopping') throw fail(`systemd is ${state}`);
    await sleep(100);
  }
}

/** Stops nspawn (poweroff, then SIGKILL of its group), unmounts and removes the state dir. */
async function teardown(
  p: SandboxPaths,
  record: SandboxRecord | undefined,
  nsenter: string | undefined,
  note?: (msg: string) => void,
  graceMs = 30_000,
): Promise<void> {
  // re-scanned each time: nspawn forks helpers that look like it until they exec
  const alive = () => {
    const pids = new Set(findNspawn(p.name));
    if (record && isAlive(record.nspawnPid) && isNspawnFor(readCmdline(record.nspawnPid), p.name)) pids.add(record.nspawnPid);
    return [...pids];
  };
  if (alive().length > 0 && graceMs > 0) {
    for (const pid of alive()) {
      const leader = findLeader(pid);
      const off = leader && nsenter
        ? await run(nsenter, nsenterArgv(leader, ['systemctl', 'poweroff', '--no-block']), { timeoutMs: 10_000 })
        : undefined;
      // nspawn turns SIGTERM into an orderly shutdown request to the container's init
      if (off?.exitCode !== 0) signalPid(pid, 'SIGTERM');
    }
    await waitGone(alive, graceMs);
    if (alive().length > 0) note?.(`sandbox '${p.name}' did not power off in time: killing it`);
  }
  if (alive().length > 0) {
    for (const pid of alive()) {
      // killing nspawn alone leaves the container's init (and its pid namespace) running
      for (const child of childrenOf(pid)) signalPid(child, 'SIGKILL');
      const pgid = readStat(pid)?.pgid;
      if (pgid && pgid === pid) signalPid(-pgid, 'SIGKILL');
      signalPid(pid, 'SIGKILL');
    }
    await waitGone(alive, 10_000);
    if (alive().length > 0) throw new SdmeError(`could not stop systemd-nspawn of sandbox '${p.name}' (pid ${alive().join(', ')})`);
  }
  cleanupUnixExport(p.name);
  unmountOwnOverlay(p);
  // only mounts that survive the normal teardown are reported as stale
  await safeRemoveDir(p.dir, { note });
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

async function waitGone(alive: () => number[], ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (alive().length > 0 && Date.now() < until) await sleep(50);
}

/** The overlay bringUp mounted on merged: expected, so unmounted quietly (a busy one is left for safeRemoveDir). */
function unmountOwnOverlay(p: SandboxPaths): void {
  if (!isMountPoint(p.merged)) return;
  try {
    umount2(p.merged, 0);
  } catch {
    // busy or already gone: safeRemoveDir reports and retries it
  }
}

/** nspawn leaves /run/systemd/nspawn/unix-export/NAME mounted when it is killed. */
function cleanupUnixExport(name: string): void {
  const dir = `/run/systemd/nspawn/unix-export/${name}`;
  if (isMountPoint(dir)) {
    try {
      umount2(dir, MNT_DETACH);
    } catch {
      // already gone
    }
  }
  try {
    rmdirSync(dir);
  } catch {
    // absent or not empty
  }
}

/** Idempotent: brings the sandbox down if anything of it is there. Returns false when there was nothing. */
export async function sandboxDown(o: SandboxCommon): Promise<boolean> {
  requireRoot();
  const name = validateSandboxName(o.name);
  const p = sandboxPaths(name, o.base ?? SANDBOX_BASE);
  const nsenter = (() => {
    try {
      return requireTool('nsenter', o.pathEnv);
    } catch {
      return undefined;
    }
  })();
  const lock = lockSandbox(p.lockFile, name);
  try {
    const record = readRecord(p.stateFile);
    const there = existsSync(p.dir) || findNspawn(name).length > 0;
    if (!there) return false;
    if (record && !isNspawnFor(readCmdline(record.nspawnPid), name) && findNspawn(name).length === 0) {
      o.note?.(`sandbox '${name}' was not running: removing its leftovers`);
    }
    await teardown(p, record, nsenter, o.note);
    return true;
  } finally {
    lock.release();
  }
}

function requireLive(o: SandboxCommon): { record: SandboxRecord; nsenter: string } {
  requireRoot();
  const name = validateSandboxName(o.name);
  const record = liveRecord(sandboxPaths(name, o.base ?? SANDBOX_BASE));
  if (!record) throw new SdmeError(`sandbox '${name}' is not up (start it with: sdme sandbox up --name ${name})`);
  return { record, nsenter: requireTool('nsenter', o.pathEnv) };
}

export interface SandboxRunOptions extends SandboxCommon {
  /** working directory inside (default /) */
  cwd?: string;
}

/** Runs argv inside the sandbox with inherited stdio; resolves to its exit code. */
export async function sandboxRun(argv: readonly string[], o: SandboxRunOptions): Promise<number> {
  if (argv.length === 0) throw new SdmeError('nothing to run: give a command after --');
  const { record, nsenter } = requireLive(o);
  const r = await run(nsenter, nsenterArgv(record.leaderPid, argv, innerEnv(o.name, process.env), o.cwd), {
    inherit: true,
    timeoutMs: 0,
    signal: o.signal,
  });
  return r.exitCode;
}

/** Interactive login shell inside. */
export async function sandboxShell(o: SandboxRunOptions): Promise<number> {
  return sandboxRun(['/bin/bash', '-l'], o);
}

export async function sandboxStatus(o: SandboxCommon): Promise<SandboxInfo> {
  requireRoot();
  const name = validateSandboxName(o.name);
  const p = sandboxPaths(name, o.base ?? SANDBOX_BASE);
  const info: SandboxInfo = {
    name,
    state: 'down',
    nspawnPid: null,
    leaderPid: null,
    rootfs: null,
    checkout: null,
    systemdVersion: null,
    uptimeSec: null,
    dir: p.dir,
  };
  const record = liveRecord(p);
  if (!record) {
    if (existsSync(p.dir) || findNspawn(name).length > 0) info.state = 'stale';
    return info;
  }
  Object.assign(info, {
    nspawnPid: record.nspawnPid,
    leaderPid: record.leaderPid,
    rootfs: record.rootfs,
    checkout: record.checkout || null,
    uptimeSec: Math.round((Date.now() - record.started) / 1000),
  });
  const nsenter = requireTool('nsenter', o.pathEnv);
  const inside = (args: string[]) => run(nsenter, nsenterArgv(record.leaderPid, args), { timeoutMs: 10_000 });
  const [state, version] = await Promise.all([inside(['systemctl', 'is-system-running']), inside(['systemctl', '--version'])]);
  info.state = state.stdout.trim() || 'unknown';
  info.systemdVersion = /^systemd (\d+)/.exec(version.stdout)?.[1] ?? null;
  return info;
}
