/**
 * The whole create-time flag resolution (lifecycle.md §2 steps 1-4, §8,
 * network-pods-security.md §1, §4-§7), pure, shared by the CLI and the TUI
 * wizard. Facts about the host come in as data (hostFacts); the result is a
 * ContainerState ready for containers/create.ts (name '' = generate) plus
 * notes to print. Errors are CreateFlagError (an SdmeError naming the flag).
 */
import type { Config } from '../catalogue/config.js';
import { nameProblem, showName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';
import { IDMAP_BIND_MIN_SYSTEMD } from '../nspawn/argv.js';
import { assertUniquePorts, normalizePort } from '../network/ports.js';
import type { ContainerState } from '../types.js';
import { normalizeCapList, resolveSecurity, type SecurityFlags } from './presets.js';
import {
  normalizeOpaqueDirs,
  normalizeRestartPolicy,
  parseBind,
  parseEnv,
  parseMaskedServices,
  parseSyscallFilters,
  validateApparmorProfile,
  validateBridgeName,
  validateCpuWeight,
  validateCpus,
  validateDisk,
  validateLogLevel,
  validateMemory,
  validateUsernsNested,
  validateZoneName,
} from './validate.js';

/** Oldest systemd we run on (spec/README.md). */
export const MIN_SYSTEMD = 252;
const RESOLVED = 'systemd-resolved.service';

/**
 * First systemd whose nspawn we let run a user namespace over a host clone.
 * Older nspawn cannot idmap the overlay (kernel: EINVAL) and falls back to a
 * recursive chown of the merged tree, i.e. a copy-up of the whole host root
 * into the container's upper layer (measured: 12 s for a 60 MB imported root).
 */
export const USERNS_HOST_CLONE_MIN_SYSTEMD = 255;

/**
 * Why a user namespace cannot be used for this container on this host, or
 * undefined when it can. Pure; createFlagsToState refuses it at validation,
 * createContainer again before writing.
 */
export function usernsHostCloneProblem(
  s: Pick<ContainerState, 'rootfs' | 'userns'>,
  systemdVersion: number,
): string | undefined {
  if (!s.userns || s.rootfs !== '' || systemdVersion >= USERNS_HOST_CLONE_MIN_SYSTEMD) return undefined;
  return (
    `a user namespace (--userns/--hardened/--strict) on a host clone needs systemd ${USERNS_HOST_CLONE_MIN_SYSTEMD} ` +
    `or later (this host has ${systemdVersion}): systemd-nspawn ${systemdVersion} cannot idmap the overlay and would ` +
    `chown a copy of the whole host root into the container; import a root filesystem ('sdme fs import') and create ` +
    `with -r ROOTFS`
  );
}

/** SdmeError that knows which flag it is about (the TUI maps it to a form field). */
export class CreateFlagError extends SdmeError {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(message);
    this.name = 'CreateFlagError';
    this.flag = flag;
  }
}

/** Raw flags as typed (same field names as cli/create-flags.ts CliCreateFlags). */
export interface CreateFlagsInput extends Omit<SecurityFlags, 'hasInterface'> {
  name?: string;
  fs?: string;
  memory?: string;
  cpus?: string;
  cpuWeight?: string;
  disk?: string;
  /** undefined or empty = default (config host_rootfs_opaque_dirs for host clones) */
  opaqueDirs?: readonly string[];
  pod?: string;
  ociPod?: string;
  privateNetwork?: boolean;
  networkVeth?: boolean;
  networkBridge?: string;
  networkZone?: string;
  ports?: readonly string[];
  binds?: readonly string[];
  envs?: readonly string[];
  ociEnv?: readonly string[];
  usernsNested?: string;
  systemdLogLevel?: string;
  restart?: string;
  /** undefined = config default; '' = none */
  maskedServices?: string;
  storage?: string;
}

export interface CreateHostFacts {
  systemdVersion: number;
  /** existing pod names; when given, --pod/--oci-pod must be among them */
  pods?: readonly string[];
  /** whether the `-r` rootfs has an OCI app unit (needed by --oci-pod); undefined = not checked */
  rootfsHasOciApp?: boolean;
  /** bind host paths that are block/char devices (no idmap needed) */
  hostDevices?: ReadonlySet<string>;
  /** whether a host bridge exists (network/ifnames.ts bridgeExists); undefined = not checked here */
  bridgeExists?: (name: string) => boolean;
}

export type CreateConfig = Pick<
  Config,
  | 'hardened_drop_caps'
  | 'restart_sec'
  | 'default_create_masked_services'
  | 'host_rootfs_opaque_dirs'
  | 'userns_nested_ranges'
>;

export interface CreateResolution {
  /** name '' = to be generated; created 0 = set by create */
  state: ContainerState;
  notes: string[];
  /** extra 64K uid ranges (0 = none), used by the userns allocation post-step */
  usernsNested: number;
  /** validated --disk (btrfs only; create warns and drops it on overlay) */
  disk?: string;
  storage?: 'overlay' | 'btrfs' | 'auto';
  /** validated --oci-env entries (KEY=VALUE) for the app env file */
  ociEnv: string[];
}

/** Run fn; re-throw its SdmeError as a CreateFlagError for flag. */
function on<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SdmeError && !(e instanceof CreateFlagError)) throw new CreateFlagError(flag, e.message);
    throw e;
  }
}

function checkName(flag: string, what: string, v: string): string {
  const problem = nameProblem(v);
  if (problem) throw new CreateFlagError(flag, `invalid ${what} name '${showName(v)}': ${problem}`);
  return v;
}

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function createFlagsToState(
  flags: CreateFlagsInput,
  config: CreateConfig,
  hostFacts: CreateHostFacts,
): CreateResolution {
  const notes: string[] = [];

  // ---- step 1: systemd version, limits, log level, restart
  if (hostFacts.systemdVersion < MIN_SYSTEMD) {
    throw new SdmeError(`systemd ${MIN_SYSTEMD} or later is required (this host has ${hostFacts.systemdVersion})`);
  }
  const name = flags.name ?? '';
  if (name !== '') checkName('--name', 'container', name);
  const rootfs = flags.fs ?? '';
  if (flags.fs !== undefined) checkName('--fs', 'rootfs', rootfs);
  const memory = flags.memory !== undefined ? on('--memory', () => validateMemory(flags.memory!)) : undefined;
  const cpus = flags.cpus !== undefined ? on('--cpus', () => validateCpus(flags.cpus!)) : undefined;
  const cpuWeight = flags.cpuWeight !== undefined ? on('--cpu-weight', () => validateCpuWeight(flags.cpuWeight!)) : undefined;
  const disk = flags.disk !== undefined ? on('--disk', () => validateDisk(flags.disk!)) : undefined;
  let storage: CreateResolution['storage'];
  if (flags.storage !== undefined) {
    if (flags.storage !== 'overlay' && flags.storage !== 'btrfs' && flags.storage !== 'auto') {
      throw new CreateFlagError('--storage', `invalid --storage '${showName(flags.storage)}': expected overlay, btrfs or auto`);
    }
    storage = flags.storage;
  }
  const logLevel =
    flags.systemdLogLevel !== undefined ? on('--systemd-log-level', () => validateLogLevel(flags.systemdLogLevel!)) : undefined;
  const restart = flags.restart !== undefined ? on('--restart', () => normalizeRestartPolicy(flags.restart!)) : 'no';

  // ---- step 2: network parse + implication, security presets, NET_RAW retention
  const bridge = flags.networkBridge !== undefined ? on('--network-bridge', () => validateBridgeName(flags.networkBridge!)) : undefined;
  if (bridge !== undefined && hostFacts.bridgeExists && !hostFacts.bridgeExists(bridge)) {
    throw new CreateFlagError('--network-bridge', `bridge '${bridge}' does not exist on this host`);
  }
  const zone = flags.networkZone !== undefined ? on('--network-zone', () => validateZoneName(flags.networkZone!)) : undefined;
  const ports = (flags.ports ?? []).map((p) => on('--port', () => normalizePort(p)));
  on('--port', () => assertUniquePorts(ports));
  const veth = !!flags.networkVeth;
  const hasInterface = veth || bridge !== undefined || zone !== undefined;
  if (ports.length > 0 && !hasInterface) {
    throw new CreateFlagError('--port', '--port requires --network-veth, --network-bridge, or --network-zone');
  }
  let privateNetwork = !!flags.privateNetwork || hasInterface || ports.length > 0;

  // validate each list on its own first so the error names the right flag
  on('--capability', () => normalizeCapList(flags.addCaps));
  on('--drop-capability', () => normalizeCapList(flags.dropCaps));
  on('--system-call-filter', () => parseSyscallFilters(flags.systemCallFilter ?? []));
  if (flags.apparmorProfile !== undefined) on('--apparmor-profile', () => validateApparmorProfile(flags.apparmorProfile!));
  if (flags.hardened && !flags.strict) on('--hardened', () => normalizeCapList([config.hardened_drop_caps]));
  const sec = on('--capability', () =>
    resolveSecurity(
      {
        userns: flags.userns,
        dropCaps: flags.dropCaps,
        addCaps: flags.addCaps,
        noNewPrivileges: flags.noNewPrivileges,
        readOnly: flags.readOnly,
        systemCallFilter: flags.systemCallFilter,
        apparmorProfile: flags.apparmorProfile,
        hardened: flags.hardened,
        strict: flags.strict,
        hasInterface,
      },
      config,
    ),
  );
  if (sec.forcePrivateNetwork) privateNetwork = true;
  const usernsProblem = usernsHostCloneProblem({ rootfs, userns: sec.userns }, hostFacts.systemdVersion);
  if (usernsProblem) {
    throw new CreateFlagError(flags.strict ? '--strict' : flags.hardened ? '--hardened' : '--userns', usernsProblem);
  }
  notes.push(...sec.notes);

  const usernsNested =
    flags.usernsNested !== undefined
      ? on('--userns-nested', () => validateUsernsNested(flags.usernsNested!))
      : config.userns_nested_ranges;

  // ---- step 3: pods
  const pod = flags.pod !== undefined ? checkName('--pod', 'pod', flags.pod) : undefined;
  if (pod !== undefined) {
    // a --pod member lives in the pod's netns; nspawn cannot add its own interfaces there
    const own = [
      veth && '--network-veth',
      bridge !== undefined && '--network-bridge',
      zone !== undefined && '--network-zone',
      ports.length > 0 && '--port',
    ].filter((x): x is string => typeof x === 'string');
    if (own.length > 0) {
      throw new CreateFlagError(
        '--pod',
        `--pod cannot be combined with ${own.join(', ')}: members use the pod's network namespace ` +
          `(give the pod a network with 'sdme pod net attach ${pod} veth|zone')`,
      );
    }
  }
  const ociPod = flags.ociPod !== undefined ? checkName('--oci-pod', 'pod', flags.ociPod) : undefined;
  for (const [flag, p] of [['--pod', pod], ['--oci-pod', ociPod]] as const) {
    if (p !== undefined && hostFacts.pods !== undefined && !hostFacts.pods.includes(p)) {
      throw new CreateFlagError(flag, `pod '${p}' not found (create it with 'sdme pod new ${p}')`);
    }
  }
  if (ociPod !== undefined) {
    if (!privateNetwork) throw new CreateFlagError('--oci-pod', '--oci-pod requires --private-network');
    if (rootfs === '' || hostFacts.rootfsHasOciApp === false) {
      throw new CreateFlagError('--oci-pod', '--oci-pod requires an OCI app rootfs');
    }
  }

  // ---- step 4: binds, env, opaque dirs, masked services
  const binds = (flags.binds ?? []).map((b) => on('--bind', () => parseBind(b)));
  if (sec.userns && hostFacts.systemdVersion < IDMAP_BIND_MIN_SYSTEMD) {
    const needIdmap = binds.find((b) => !hostFacts.hostDevices?.has(b.host));
    if (needIdmap) {
      throw new CreateFlagError(
        '--bind',
        `--bind ${showName(needIdmap.host)} with a user namespace (--userns/--hardened/--strict) needs idmapped bind mounts, ` +
          `which need systemd ${IDMAP_BIND_MIN_SYSTEMD} or later (this host has ${hostFacts.systemdVersion})`,
      );
    }
  }
  const envs = (flags.envs ?? []).map((e) => on('--env', () => parseEnv(e, '--env')));
  const ociEnv = (flags.ociEnv ?? []).map((e) => on('--oci-env', () => parseEnv(e, '--oci-env')));

  let opaqueDirs: string[] = [];
  const givenOpaque = (flags.opaqueDirs ?? []).flatMap(csv);
  if (givenOpaque.length > 0) {
    opaqueDirs = on('--overlayfs-opaque-dirs', () => normalizeOpaqueDirs(givenOpaque));
  } else if (rootfs === '') {
    opaqueDirs = on('--overlayfs-opaque-dirs', () => normalizeOpaqueDirs(csv(config.host_rootfs_opaque_dirs)));
  }

  let maskedServices: string[];
  if (flags.maskedServices !== undefined) {
    maskedServices = on('--masked-services', () => parseMaskedServices(flags.maskedServices!));
  } else {
    maskedServices = on('--masked-services', () => parseMaskedServices(config.default_create_masked_services));
    if (hasInterface) maskedServices = maskedServices.filter((s) => s !== RESOLVED);
  }

  const state: ContainerState = {
    name,
    created: 0,
    rootfs,
    privateNetwork,
    networkVeth: veth,
    ports,
    binds,
    envs,
    opaqueDirs,
    maskedServices,
    ociVolumes: [],
    userns: sec.userns,
    dropCaps: sec.dropCaps,
    addCaps: sec.addCaps,
    noNewPrivs: sec.noNewPrivs,
    readOnly: sec.readOnly,
    syscallFilter: sec.syscallFilter,
    extra: {},
  };
  if (storage === 'btrfs') state.storage = 'btrfs';
  if (memory !== undefined) state.memory = memory;
  if (cpus !== undefined) state.cpus = cpus;
  if (cpuWeight !== undefined) state.cpuWeight = cpuWeight;
  if (bridge !== undefined) state.networkBridge = bridge;
  if (zone !== undefined) state.networkZone = zone;
  if (pod !== undefined) state.pod = pod;
  if (ociPod !== undefined) state.ociPod = ociPod;
  if (sec.apparmorProfile !== undefined) state.apparmorProfile = sec.apparmorProfile;
  if (logLevel !== undefined) state.systemdLogLevel = logLevel;
  if (restart === 'on-failure') {
    state.restartPolicy = 'on-failure';
    state.restartSec = config.restart_sec;
  }

  const out: CreateResolution = { state, notes, usernsNested: sec.userns ? usernsNested : 0, ociEnv };
  if (disk !== undefined) out.disk = disk;
  if (storage !== undefined) out.storage = storage;
  return out;
}
