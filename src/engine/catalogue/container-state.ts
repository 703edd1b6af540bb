/**
 * The only writer of container state keys (layout-and-state.md §3.1):
 * typed ContainerState <-> KEY=VALUE, reading/writing `state/NAME`, the
 * O_EXCL name claim, listing and prefix resolution of names.
 */
import { constants as fsc } from 'node:fs';
import { lstat, open, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { SdmeError } from '../errors.js';
import type { BindSpec, ContainerState } from '../types.js';
import { ensureDataDir } from './datadir.js';
import { compareBytes, parseKV, serializeKV, writeFileAtomic, type KV } from './kv.js';
import { MACHINES_DIR, type Layout } from './paths.js';
import { isUpstreamValidName, showName, validateName } from './names.js';
import { pathExists } from '../../native/fsutil.js';

/** Keys modeled by ContainerState; everything else goes to `extra` verbatim. */
export const MODELED_KEYS: readonly string[] = [
  'CREATED', 'NAME', 'ROOTFS', 'STORAGE', 'MEMORY', 'CPUS', 'CPU_WEIGHT',
  'PRIVATE_NETWORK', 'NETWORK_VETH', 'NETWORK_BRIDGE', 'NETWORK_ZONE', 'PORTS', 'BINDS', 'ENVS',
  'OPAQUE_DIRS', 'MASKED_SERVICES', 'POD', 'OCI_POD', 'OCI_APP', 'OCI_VOLUMES',
  'USERNS', 'USERNS_SHIFT', 'USERNS_RANGE', 'DROP_CAPS', 'ADD_CAPS', 'NO_NEW_PRIVS', 'READ_ONLY',
  'SYSCALL_FILTER', 'APPARMOR_PROFILE', 'SYSTEMD_LOG_LEVEL', 'RESTART_POLICY', 'RESTART_SEC', 'ENABLED',
];
const MODELED = new Set(MODELED_KEYS);

/** A fresh state with every list empty and every flag off. */
export function emptyState(name: string, created = Math.floor(Date.now() / 1000)): ContainerState {
  return {
    name,
    created,
    rootfs: '',
    privateNetwork: false,
    networkVeth: false,
    ports: [],
    binds: [],
    envs: [],
    opaqueDirs: [],
    maskedServices: [],
    ociVolumes: [],
    userns: false,
    dropCaps: [],
    addCaps: [],
    noNewPrivs: false,
    readOnly: false,
    syscallFilter: [],
    extra: {},
  };
}

function list(v: string | undefined, sep: string): string[] {
  return v === undefined || v === '' ? [] : v.split(sep);
}

function str(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function int(v: string | undefined): number | undefined {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** `HOST:CONT:rw|ro`, split from the right so the host part keeps any `:`. */
export function parseBindEntry(entry: string): BindSpec {
  const last = entry.lastIndexOf(':');
  const tail = entry.slice(last + 1);
  if (last > 0 && (tail === 'rw' || tail === 'ro')) {
    const rest = entry.slice(0, last);
    const mid = rest.lastIndexOf(':');
    if (mid > 0) return { host: rest.slice(0, mid), container: rest.slice(mid + 1), mode: tail };
  }
  const mid = entry.lastIndexOf(':');
  if (mid > 0) return { host: entry.slice(0, mid), container: entry.slice(mid + 1), mode: 'rw' };
  return { host: entry, container: entry, mode: 'rw' };
}

export function formatBindEntry(b: BindSpec): string {
  return `${b.host}:${b.container}:${b.mode}`;
}

export function stateFromKV(kv: KV, fallbackName = ''): ContainerState {
  const s = emptyState(kv.NAME || fallbackName, int(kv.CREATED) ?? 0);
  s.rootfs = kv.ROOTFS ?? '';
  s.storage = str(kv.STORAGE);
  s.memory = str(kv.MEMORY);
  s.cpus = str(kv.CPUS);
  s.cpuWeight = str(kv.CPU_WEIGHT);
  s.privateNetwork = kv.PRIVATE_NETWORK === '1';
  s.networkVeth = kv.NETWORK_VETH === '1';
  s.networkBridge = str(kv.NETWORK_BRIDGE);
  s.networkZone = str(kv.NETWORK_ZONE);
  s.ports = list(kv.PORTS, ',');
  s.binds = list(kv.BINDS, '|').map(parseBindEntry);
  s.envs = list(kv.ENVS, '|');
  s.opaqueDirs = list(kv.OPAQUE_DIRS, ',');
  s.maskedServices = list(kv.MASKED_SERVICES, ',');
  s.pod = str(kv.POD);
  s.ociPod = str(kv.OCI_POD);
  s.ociApp = str(kv.OCI_APP);
  s.ociVolumes = list(kv.OCI_VOLUMES, ',');
  s.userns = kv.USERNS === 'yes';
  s.usernsShift = int(kv.USERNS_SHIFT);
  s.usernsRange = int(kv.USERNS_RANGE);
  s.dropCaps = list(kv.DROP_CAPS, ',');
  s.addCaps = list(kv.ADD_CAPS, ',');
  s.noNewPrivs = kv.NO_NEW_PRIVS === 'yes';
  s.readOnly = kv.READ_ONLY === 'yes';
  s.syscallFilter = list(kv.SYSCALL_FILTER, ',');
  s.apparmorProfile = str(kv.APPARMOR_PROFILE);
  s.systemdLogLevel = str(kv.SYSTEMD_LOG_LEVEL);
  s.restartPolicy = kv.RESTART_POLICY === 'on-failure' ? 'on-failure' : undefined;
  s.restartSec = int(kv.RESTART_SEC);
  s.enabled = kv.ENABLED === undefined ? undefined : kv.ENABLED === 'yes';
  for (const [k, v] of Object.entries(kv)) if (!MODELED.has(k)) s.extra[k] = v;
  return s;
}

export function stateToKV(s: ContainerState): KV {
  const kv: KV = {};
  for (const [k, v] of Object.entries(s.extra)) if (!MODELED.has(k)) kv[k] = v;
  const put = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') kv[k] = String(v);
  };
  const putList = (k: string, v: readonly string[], sep: string) => {
    if (v.length > 0) kv[k] = v.join(sep);
  };
  const flag = (k: string, on: boolean, yes = 'yes') => {
    if (on) kv[k] = yes;
  };
  kv.CREATED = String(s.created);
  kv.NAME = s.name;
  kv.ROOTFS = s.rootfs; // always present, empty = host-rootfs clone
  put('STORAGE', s.storage);
  put('MEMORY', s.memory);
  put('CPUS', s.cpus);
  put('CPU_WEIGHT', s.cpuWeight);
  flag('PRIVATE_NETWORK', s.privateNetwork, '1');
  flag('NETWORK_VETH', s.networkVeth, '1');
  put('NETWORK_BRIDGE', s.networkBridge);
  put('NETWORK_ZONE', s.networkZone);
  putList('PORTS', s.ports, ',');
  putList('BINDS', s.binds.map(formatBindEntry), '|');
  putList('ENVS', s.envs, '|');
  putList('OPAQUE_DIRS', s.opaqueDirs, ',');
  putList('MASKED_SERVICES', s.maskedServices, ',');
  put('POD', s.pod);
  put('OCI_POD', s.ociPod);
  put('OCI_APP', s.ociApp);
  putList('OCI_VOLUMES', s.ociVolumes, ',');
  flag('USERNS', s.userns);
  put('USERNS_SHIFT', s.usernsShift);
  put('USERNS_RANGE', s.usernsRange);
  putList('DROP_CAPS', s.dropCaps, ',');
  putList('ADD_CAPS', s.addCaps, ',');
  flag('NO_NEW_PRIVS', s.noNewPrivs);
  flag('READ_ONLY', s.readOnly);
  putList('SYSCALL_FILTER', s.syscallFilter, ',');
  put('APPARMOR_PROFILE', s.apparmorProfile);
  put('SYSTEMD_LOG_LEVEL', s.systemdLogLevel);
  put('RESTART_POLICY', s.restartPolicy);
  put('RESTART_SEC', s.restartSec);
  if (s.enabled !== undefined) kv.ENABLED = s.enabled ? 'yes' : 'no';
  return kv;
}

export function serializeState(s: ContainerState): string {
  return serializeKV(stateToKV(s));
}

export function parseState(text: string, source = 'state', fallbackName = ''): ContainerState {
  return stateFromKV(parseKV(text, source), fallbackName);
}

/** Why `state/NAME` is not a regular file (directory, symlink, ...), or undefined. */
function notAFile(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'is a directory, not a state file';
  if (st.isSymbolicLink()) return 'is a symbolic link, not a state file';
  return 'is not a regular file';
}

export async function readState(layout: Layout, name: string): Promise<ContainerState> {
  const path = layout.stateFile(name);
  let text: string;
  try {
    const why = notAFile(await lstat(path));
    if (why) throw new SdmeError(`${path} ${why}`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SdmeError(`container '${showName(name)}' does not exist`);
    if (code !== undefined) throw new SdmeError(`cannot read ${path}: ${(e as Error).message.split(',')[0]}`, { cause: e });
    throw e;
  }
  return parseState(text, path, name);
}

/** Atomically (re)write `state/NAME` with mode 0600 (upstream-valid names: existing containers). */
export async function writeState(layout: Layout, state: ContainerState): Promise<void> {
  if (!isUpstreamValidName(state.name)) validateName(state.name, 'container');
  await writeFileAtomic(layout.stateFile(state.name), serializeState(state), 0o600);
}

/** Ensure datadir (0700, re-applied) and state/ (0700) exist. */
export async function ensureStateDir(layout: Layout): Promise<void> {
  await ensureDataDir(layout, ['state']);
}

/**
 * Atomically claim `state/NAME` (O_CREAT|O_EXCL, 0600). Exactly one of any
 * number of concurrent claims succeeds; the others get "already exists".
 */
export async function claimStateFile(layout: Layout, name: string): Promise<void> {
  validateName(name, 'container');
  await ensureStateDir(layout);
  try {
    const fh = await open(layout.stateFile(name), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    await fh.close();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SdmeError(`container '${name}' already exists`);
    }
    throw e;
  }
}

/**
 * Remove `state/NAME`. An empty directory in its place is removed too; a
 * non-empty one is refused (it is not sdme's).
 */
export async function removeStateFile(layout: Layout, name: string): Promise<void> {
  const path = layout.stateFile(name);
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory()) {
    try {
      await rmdir(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') {
        throw new SdmeError(`${path} is a non-empty directory, not a state file; remove it by hand`);
      }
      if (code !== 'ENOENT') throw e;
    }
    return;
  }
  await rm(path, { force: true });
}

export interface StateEntry {
  name: string;
  /** set when state/NAME is not a regular file (e.g. a directory) */
  problem?: string;
}

/**
 * Entries of state/ with upstream-valid names (so names with a trailing '-'
 * made by upstream sdme are kept), sorted; dot-files such as `.N.tmp` are
 * skipped. Non-files are kept with a problem rather than hidden.
 */
export async function listStateEntries(layout: Layout): Promise<StateEntry[]> {
  let entries;
  try {
    entries = await readdir(layout.stateDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return entries
    .filter((d) => isUpstreamValidName(d.name))
    .map((d): StateEntry => {
      if (d.isFile()) return { name: d.name };
      const problem = d.isDirectory()
        ? 'state entry is a directory, not a file'
        : d.isSymbolicLink()
          ? 'state entry is a symbolic link, not a file'
          : 'state entry is not a regular file';
      return { name: d.name, problem };
    })
    .sort((a, b) => compareBytes(a.name, b.name));
}

/**
 * Names of every state/ entry (see listStateEntries): readState on a
 * non-file entry throws a one-line SdmeError, which callers already treat as
 * an unreadable state (ps shows it with a problem; rm can remove it).
 */
export async function listStateNames(layout: Layout): Promise<string[]> {
  return (await listStateEntries(layout)).map((e) => e.name);
}

/** Exact name first, else the unique prefix match among state files. */
export async function resolveName(layout: Layout, input: string): Promise<string> {
  const names = await listStateNames(layout);
  if (names.includes(input)) return input;
  const matches = input === '' ? [] : names.filter((n) => n.startsWith(input));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new SdmeError(`no container found matching '${showName(input)}'`);
  throw new SdmeError(`ambiguous name '${showName(input)}', could match: ${matches.join(', ')}`);
}


/** Name already used on disk: `containers/N`, `state/N` or `/var/lib/machines/N` exists. */
export async function nameTakenOnDisk(layout: Layout, name: string, machinesDir = MACHINES_DIR): Promise<boolean> {
  return (
    (await pathExists(layout.containerDir(name))) ||
    (await pathExists(layout.stateFile(name))) ||
    (await pathExists(join(machinesDir, name)))
  );
}
