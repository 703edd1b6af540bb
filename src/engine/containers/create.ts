/**
 * containers::create (lifecycle.md §2, §10): claim the name atomically, then
 * build the overlay tree with all customisation in `upper/`, then write the
 * state file. Any failure (or interrupt) removes everything written.
 */
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { lsetxattr } from '../../native/libc.js';
import { run } from '../../native/run.js';
import { claimStateFile, nameTakenOnDisk, removeStateFile, writeState } from '../catalogue/container-state.js';
import { ensureDataDir } from '../catalogue/datadir.js';
import { lock, removeLockFile, type Lock } from '../catalogue/locks.js';
import { generateName, validateName } from '../catalogue/names.js';
import { parseKV } from '../catalogue/kv.js';
import { safeRemoveDir } from '../catalogue/safe-remove.js';
import type { Ctx } from '../context.js';
import { SdmeError, checkInterrupt } from '../errors.js';
import type { ContainerState } from '../types.js';
import { assertBridgeExists, assertNoIfnameClash } from '../network/ifnames.js';
import { ifaceOwners } from '../network/pod-net.js';
import { assertIdmappableBinds, inspectBindHosts } from '../security/bind-hosts.js';
import { usernsHostCloneProblem } from '../security/create-flags.js';
import { pathExists } from '../../native/fsutil.js';

export interface CreateOptions {
  /** machined machine names (for name generation); default asks machined over D-Bus */
  listMachines?: () => Promise<string[]>;
  /** host systemd unit dir scanned for .mount/.swap/.automount (tests) */
  hostUnitDir?: string;
  /** lower dir used for host clones instead of `/` (tests) */
  hostRoot?: string;
  /** host systemd version; default: `systemctl --version` */
  systemdVersion?: number;
  /** /sys/class/net to look bridges up in (tests) */
  sysClassNet?: string;
  /**
   * Called once every check passed, just before the first write, with the
   * final name: the place for a `creating 'N'` progress line.
   */
  onCreating?: (name: string) => void;
}

const HOST_MASK_SUFFIXES = ['.mount', '.swap', '.automount'];
const RESOLVED = 'systemd-resolved.service';
const NETWORKD = 'systemd-networkd.service';

export function hasInterface(s: ContainerState): boolean {
  return s.networkVeth || s.networkBridge !== undefined || s.networkZone !== undefined;
}

/** Lower dir of the overlay: `/` for host clones, else `fs/ROOTFS`. */
export function lowerDir(ctx: Ctx, s: ContainerState): string {
  if (s.rootfs === '') return '/';
  validateName(s.rootfs, 'rootfs');
  return ctx.layout.fsPath(s.rootfs);
}

/**
 * Create the container described by spec (spec.name '' = generate one).
 * Returns the final name. Validation of flags happened before (createFlagsToState).
 */
export async function createContainer(ctx: Ctx, spec: ContainerState, opts: CreateOptions = {}): Promise<string> {
  const umask = process.umask();
  if ((umask & 0o005) !== 0) {
    throw new SdmeError(
      `umask ${umask.toString(8).padStart(4, '0')} would make container files unreadable for services; use umask 022`,
    );
  }
  const L = ctx.layout;

  let name = spec.name;
  if (name === '') {
    const machines = new Set(await (opts.listMachines ?? machinedNames)());
    name = await generateName(async (n) => machines.has(n) || (await nameTakenOnDisk(L, n)));
  } else {
    validateName(name, 'container');
  }
  await preflightCreate(ctx, spec, opts);

  // Exclusive container lock for the whole create: rm/start of the same name wait for us to finish.
  let nameLock: Lock;
  try {
    nameLock = lock(L, 'containers', name, 'exclusive');
  } catch (e) {
    if (e instanceof SdmeError) throw new SdmeError(`container '${name}' already exists (${e.message})`);
    throw e;
  }
  let fsLock: Lock | undefined;
  let created = false;
  try {
    await removeStaleClaim(ctx, name);
    if (await nameTakenOnDisk(L, name)) throw new SdmeError(`container '${name}' already exists`);
    // host interface names are cut to 15 bytes: refuse a clash now rather than at boot
    assertNoIfnameClash({ ...spec, name }, await ifaceOwners(ctx));
    if (spec.rootfs !== '') {
      validateName(spec.rootfs, 'rootfs');
      // checked before locking so a missing rootfs gets no lock file
      if (!(await isDir(L.fsPath(spec.rootfs)))) throw rootfsNotFound(spec.rootfs);
      fsLock = lock(L, 'fs', spec.rootfs, 'shared');
      if (!(await isDir(L.fsPath(spec.rootfs)))) {
        // removed between the check and the lock (fs rm unlinks its lock file): drop ours
        fsLock.release();
        fsLock = undefined;
        removeLockFile(L, 'fs', spec.rootfs);
        throw rootfsNotFound(spec.rootfs);
      }
    }
    checkInterrupt(ctx.signal);
    // everything is checked: from here on the create writes (and rolls back on failure)
    opts.onCreating?.(name);
    if (hasInterface(spec) && !(await unitActiveOnHost(NETWORKD))) {
      ctx.note(`warning: ${NETWORKD} is not active on the host; container interfaces will get no DHCP service`);
    }
    await ensureDataDir(L, ['state', 'containers']);
    // the atomic name claim: exactly one concurrent create wins
    await claimStateFile(L, name).catch((e: unknown) => {
      throw asCreateError(name, e);
    });
    const state: ContainerState = { ...spec, name, created: Math.floor(Date.now() / 1000) };
    try {
      await buildTree(ctx, state, opts);
      checkInterrupt(ctx.signal);
      await writeState(L, state);
    } catch (e) {
      await cleanupFailedCreate(ctx, name);
      throw asCreateError(name, e);
    }
    created = true;
    return name;
  } finally {
    fsLock?.release();
    // a failed create leaves no lock file, unless the name belongs to an existing container
    nameLock.release({ unlinkIfOwner: !created && !(await containerOnDisk(ctx, name)) });
  }
}

/**
 * The read-only checks of a create that need the host (bind sources, user
 * namespace limits, bridge, rootfs): all before anything is written or any
 * progress is reported. Exported so callers can validate without creating.
 */
export async function preflightCreate(
  ctx: Ctx,
  spec: ContainerState,
  opts: Pick<CreateOptions, 'systemdVersion' | 'sysClassNet'> = {},
): Promise<void> {
  // every bind host must exist (throws naming it); devices are never idmapped
  const devices = await inspectBindHosts(spec.binds);
  if (spec.userns) {
    const problem = usernsHostCloneProblem(spec, opts.systemdVersion ?? (await hostSystemdVersion()));
    if (problem) throw new SdmeError(problem);
    await assertIdmappableBinds(spec.binds, devices);
  }
  if (spec.networkBridge !== undefined) assertBridgeExists(spec.networkBridge, opts.sysClassNet);
  if (spec.rootfs !== '') {
    validateName(spec.rootfs, 'rootfs');
    if (!(await isDir(ctx.layout.fsPath(spec.rootfs)))) throw rootfsNotFound(spec.rootfs);
  }
}

function rootfsNotFound(rootfs: string): SdmeError {
  return new SdmeError(`root filesystem '${rootfs}' not found (see 'sdme fs ls')`);
}

/** State file or container dir present (an sdme container, possibly half-created by someone else). */
async function containerOnDisk(ctx: Ctx, name: string): Promise<boolean> {
  return (await pathExists(ctx.layout.stateFile(name))) || (await pathExists(ctx.layout.containerDir(name)));
}

/**
 * An unexpected OS error while building the tree (ENOSPC, ENAMETOOLONG, EACCES...)
 * becomes a one-line SdmeError naming the operation; other errors pass through.
 */
export function asCreateError(name: string, e: unknown): unknown {
  if (e instanceof SdmeError || !(e instanceof Error)) return e;
  const { code, syscall, path, dest } = e as Partial<NodeJS.ErrnoException> & { dest?: string };
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return e;
  const op = [syscall, path, dest && `-> ${dest}`].filter((x) => typeof x === 'string' && x !== '').join(' ');
  return new SdmeError(`cannot create container '${name}': ${op ? `${op}: ` : ''}${code}`, { cause: e });
}

/**
 * An empty state file is a claim whose creator died before writing the state
 * (writeState is atomic, so a finished create never leaves it empty). We hold
 * the container lock, so no live creator owns it: remove its leftovers.
 */
async function removeStaleClaim(ctx: Ctx, name: string): Promise<void> {
  let size: number;
  try {
    const st = await lstat(ctx.layout.stateFile(name));
    if (!st.isFile()) return;
    size = st.size;
  } catch {
    return;
  }
  if (size !== 0) return;
  ctx.note(`removing leftovers of an interrupted create of '${name}'`);
  await cleanupFailedCreate(ctx, name);
}

/** Remove what a failed create wrote (container dir, state file). Never throws. */
export async function cleanupFailedCreate(ctx: Ctx, name: string): Promise<void> {
  try {
    await safeRemoveDir(ctx.layout.containerDir(name), { note: ctx.note });
  } catch (e) {
    ctx.note(`warning: could not remove ${ctx.layout.containerDir(name)}: ${(e as Error).message}`);
  }
  await removeStateFile(ctx.layout, name).catch(() => undefined);
}

async function buildTree(ctx: Ctx, s: ContainerState, opts: CreateOptions): Promise<void> {
  const L = ctx.layout;
  const name = s.name;
  await mkdir(L.containerDir(name), { mode: 0o700 });
  const upper = L.upper(name);
  await mkdir(upper, { mode: 0o755 });
  await mkdir(L.work(name), { mode: 0o700 });
  await mkdir(L.merged(name), { mode: 0o755 });
  await chmod(upper, 0o755);
  await chmod(L.merged(name), 0o755);
  const lower = s.rootfs === '' && opts.hostRoot !== undefined ? opts.hostRoot : lowerDir(ctx, s);

  // 1. opaque dirs
  for (const dir of s.opaqueDirs) {
    const p = join(upper, dir);
    await mkdirp755(upper, dir);
    lsetxattr(p, 'trusted.overlay.opaque', 'y');
  }
  checkInterrupt(ctx.signal);

  // 2. hostname, hosts
  await mkdirp755(upper, 'etc');
  await writeFile(join(upper, 'etc/hostname'), `${name}\n`, { mode: 0o644 });
  await writeFile(join(upper, 'etc/hosts'), `127.0.0.1 localhost ${name}\n::1 localhost ${name}\n`, { mode: 0o644 });

  // 3. mask the host's mount-like units (host clones only)
  await mkdirp755(upper, 'etc/systemd/system');
  const unitDir = join(upper, 'etc/systemd/system');
  if (s.rootfs === '') {
    for (const unit of await hostMountUnits(opts.hostUnitDir ?? '/etc/systemd/system')) {
      await symlinkIgnoreExists('/dev/null', join(unitDir, unit));
    }
  }

  // 4. masked services (not on NixOS, whose /etc is generated)
  if (!(await isNixos(ctx, s))) {
    for (const svc of s.maskedServices) {
      if (svc.includes('/') || svc.includes('..')) throw new SdmeError(`invalid masked service '${svc}'`);
      await symlinkIgnoreExists('/dev/null', join(unitDir, svc));
    }
  }

  // 5. keep the dbus.service alias when /etc/systemd/system is opaque
  if (s.opaqueDirs.includes('/etc/systemd/system')) {
    const alias = join(lower, 'etc/systemd/system/dbus.service');
    const target = await readlink(alias).catch(() => undefined);
    if (target !== undefined && !target.startsWith('/') && !target.split('/').includes('..')) {
      await symlinkIgnoreExists(target, join(unitDir, 'dbus.service'));
    }
  }

  // 6. resolv.conf: stub link when resolved runs in the container, else a placeholder nspawn fills
  const resolvedInside = hasInterface(s) && !s.maskedServices.includes(RESOLVED);
  const resolv = join(upper, 'etc/resolv.conf');
  if (resolvedInside) await symlink('../run/systemd/resolve/stub-resolv.conf', resolv);
  else await writeFile(resolv, '# placeholder; filled by systemd-nspawn --resolv-conf=auto\n', { mode: 0o644 });

  // 7. zone: resolve peers by hostname
  if (s.networkZone !== undefined && resolvedInside) {
    await mkdirp755(upper, 'etc/systemd/resolved.conf.d');
    await writeFile(
      join(upper, 'etc/systemd/resolved.conf.d/zone-llmnr.conf'),
      '[Resolve]\nLLMNR=yes\nMulticastDNS=yes\n',
      { mode: 0o644 },
    );
  }

  // 8. transient machine-id; hide the host fstab
  await writeFile(join(upper, 'etc/machine-id'), '', { mode: 0o444 });
  await writeFile(join(upper, 'etc/fstab'), '# created by sdme: no mounts\n', { mode: 0o644 });
  // systemd copies a regular /var/lib/dbus/machine-id into an empty /etc/machine-id,
  // so a host clone would boot with the host's id: point it at /etc/machine-id (as Debian does)
  if (s.rootfs === '' && (await isRegularFile(join(lower, 'var/lib/dbus/machine-id')))) {
    await mkdirp755(upper, 'var/lib/dbus');
    await symlink('/etc/machine-id', join(upper, 'var/lib/dbus/machine-id'));
  }

  // read-only root: nspawn cannot create bind mount points at start, so make them now
  if (s.readOnly) {
    for (const b of s.binds) await makeMountPoint(ctx, lower, upper, b.container, await isDirFollow(b.host));
  }

  // 9. networkd (+ resolved) enabled when there is an interface
  if (hasInterface(s)) {
    const wants: string[] = [NETWORKD];
    if (resolvedInside) wants.push(RESOLVED);
    for (const svc of wants) {
      const unitPath = `/usr/lib/systemd/system/${svc}`;
      if (await pathExists(join(lower, unitPath))) {
        await mkdirp755(upper, 'etc/systemd/system/multi-user.target.wants');
        await symlinkIgnoreExists(unitPath, join(unitDir, 'multi-user.target.wants', svc));
      }
    }
  }
}

/**
 * Create the mount point `target` (a dir, or an empty file for a file bind)
 * in upper unless the lower already has it. Never shadows a symlink of the
 * lower (e.g. /var/run -> /run): such binds are left to nspawn, with a note.
 */
async function makeMountPoint(ctx: Ctx, lower: string, upper: string, target: string, dir: boolean): Promise<void> {
  const parts = target.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const st = await lstat(join(lower, ...parts.slice(0, i + 1))).catch(() => undefined);
    if (st === undefined) break; // missing from here on: create below
    if (st.isSymbolicLink()) {
      ctx.note(`warning: bind target ${target} goes through a symlink in the root; with --read-only nspawn may fail to create it`);
      return;
    }
    if (i === parts.length - 1 || !st.isDirectory()) return; // already there (or not creatable)
  }
  const parent = parts.slice(0, -1).join('/');
  if (parent) await mkdirp755(upper, parent);
  if (dir) await mkdirp755(upper, parts.join('/'));
  else await writeFile(join(upper, ...parts), '', { mode: 0o644, flag: 'wx' }).catch(() => undefined);
}

async function isDirFollow(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Regular files named *.mount/*.swap/*.automount in dir (sorted). */
export async function hostMountUnits(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && HOST_MASK_SUFFIXES.some((x) => e.name.endsWith(x)))
    .map((e) => e.name)
    .sort();
}

/** mkdir -p of rel below root, each created component 0755. */
async function mkdirp755(root: string, rel: string): Promise<void> {
  let p = root;
  for (const part of rel.split('/').filter(Boolean)) {
    p = join(p, part);
    try {
      await mkdir(p, { mode: 0o755 });
      await chmod(p, 0o755);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

async function symlinkIgnoreExists(target: string, path: string): Promise<void> {
  try {
    await symlink(target, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}


async function isRegularFile(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isFile();
  } catch {
    return false;
  }
}

/** `systemd 252 (252.39-1~deb12u2)` -> 252; 0 when unknown (callers then refuse what needs a newer one). */
export async function hostSystemdVersion(): Promise<number> {
  const r = await run('systemctl', ['--version'], { timeoutMs: 10_000 });
  const m = /^systemd (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isNixos(ctx: Ctx, s: ContainerState): Promise<boolean> {
  if (s.rootfs === '') return false;
  try {
    const meta = parseKV(await readFile(ctx.layout.fsMeta(s.rootfs), 'utf8'));
    return (meta.DISTRO ?? '').toLowerCase() === 'nixos';
  } catch {
    return false;
  }
}

async function unitActiveOnHost(unit: string): Promise<boolean> {
  const r = await run('systemctl', ['is-active', '--quiet', unit], { timeoutMs: 10_000 });
  return r.exitCode === 0;
}

async function machinedNames(): Promise<string[]> {
  const r = await run('machinectl', ['list', '--no-legend', '--no-pager'], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}
