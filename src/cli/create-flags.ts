/**
 * The `create`/`new` flag set (cli-surface.md): commander option
 * definitions plus the conversion of commander's parsed options into one
 * plain flags object. Validation happens in the engine (createFlagsToState),
 * so the TUI wizard shares it.
 */
import { Command, Option } from 'commander';
import { SdmeError } from '../engine/errors.js';

/** Raw create flags as typed by the user (strings verbatim, lists in order). */
export interface CliCreateFlags {
  name?: string;
  fs?: string;
  memory?: string;
  cpus?: string;
  cpuWeight?: string;
  disk?: string;
  /** undefined = config default */
  opaqueDirs?: string[];
  pod?: string;
  ociPod?: string;
  privateNetwork: boolean;
  networkVeth: boolean;
  networkBridge?: string;
  networkZone?: string;
  ports: string[];
  binds: string[];
  envs: string[];
  userns: boolean;
  usernsNested?: string;
  dropCaps: string[];
  addCaps: string[];
  noNewPrivileges: boolean;
  readOnly: boolean;
  systemCallFilter: string[];
  apparmorProfile?: string;
  hardened: boolean;
  strict: boolean;
  systemdLogLevel?: string;
  noOciPorts: boolean;
  noOciVolumes: boolean;
  ociEnv: string[];
  enable: boolean;
  restart?: string;
  /** undefined = config default; '' = none */
  maskedServices?: string;
  storage?: string;
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];
/** Repeatable and comma-separated (`-o /a,/b -o /c`). */
const collectCsv = (v: string, prev: string[] | undefined) => [
  ...(prev ?? []),
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
];

/** Adds every create/new option to cmd (kind decides --started vs --user). */
export function addCreateOptions(cmd: Command, kind: 'create' | 'new'): Command {
  cmd
    .option('--name <name>', 'container name (omitted or empty: generated)')
    .option('-r, --fs <fs>', 'imported root filesystem (default: clone of the host /)')
    .option('--memory <size>', 'memory limit, e.g. 2G')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('--cpu-weight <w>', 'CPU weight 1-10000')
    .option('--disk <size>', 'disk cap (btrfs storage only)')
    .option('-o, --overlayfs-opaque-dirs <dirs>', 'opaque dirs in the upper layer (repeatable, comma list)', collectCsv)
    .option('--pod <pod>', 'join the pod network namespace')
    .option('--oci-pod <pod>', 'join the pod network namespace for the OCI app only')
    .option('--private-network', 'own network namespace (loopback only)', false)
    .option('--network-veth', 'veth link to the host (implies --private-network)', false)
    .option('--network-bridge <bridge>', 'attach to a host bridge (implies --private-network)')
    .option('--network-zone <zone>', 'join a network zone (implies --private-network)')
    .option('-p, --port <spec>', 'forward a port, [tcp:|udp:]HOST[:CONTAINER] (repeatable)', collect)
    .option('-b, --bind <bind>', 'bind mount HOST:CONTAINER[:ro] (repeatable)', collect)
    .option('-e, --env <env>', 'environment KEY=VALUE for the container init (repeatable)', collect)
    .option('-u, --userns', 'user namespace isolation', false)
    .option('--userns-nested <n>', 'extra 64K uid ranges for nested user namespaces')
    .option('--drop-capability <cap>', 'drop a capability (repeatable, comma list)', collectCsv)
    .option('--capability <cap>', 'add a capability (repeatable, comma list)', collectCsv)
    .option('--no-new-privileges', 'set no_new_privs for the container')
    .option('--read-only', 'read-only root filesystem', false)
    // raw values: the engine splits on ',' and refuses empty items ('', 'a,,b')
    .option('--system-call-filter <filter>', 'seccomp filter, e.g. ~@raw-io (repeatable, comma list)', collect)
    .option('--apparmor-profile <profile>', 'AppArmor profile for the container')
    .option('--hardened', 'userns, no new privileges, private network, drop risky caps', false)
    .option('--strict', 'hardened plus a minimal capability set, syscall filters and AppArmor', false)
    .addOption(
      new Option('--systemd-log-level <level>', 'SYSTEMD_LOG_LEVEL for nspawn').choices([
        'emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug',
      ]),
    )
    .option('--no-oci-ports', 'do not forward ports declared by the OCI image')
    .option('--no-oci-volumes', 'do not bind volumes declared by the OCI image')
    .option('--oci-env <env>', 'KEY=VALUE appended to the OCI app environment (repeatable)', collect)
    .option('--enable', 'start the container at host boot', false)
    .option('--restart <policy>', 'restart policy: no | on-failure')
    .option('--masked-services <list>', "services masked in the container ('' = none)")
    .addOption(new Option('--storage <backend>', 'storage backend').choices(['overlay', 'btrfs', 'auto']))
    .option('-t, --timeout <seconds>', 'boot timeout in seconds');
  if (kind === 'create') cmd.option('--started', 'start after creating (removed if the start fails)', false);
  else cmd.option('--user <user>', 'user for the shell');
  return cmd;
}

/** commander's option record -> CliCreateFlags. */
export function collectCreateFlags(o: Record<string, unknown>): CliCreateFlags {
  const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const l = (k: string) => (Array.isArray(o[k]) ? (o[k] as string[]) : []);
  const b = (k: string) => o[k] === true;
  return {
    name: s('name'),
    fs: s('fs'),
    memory: s('memory'),
    cpus: s('cpus'),
    cpuWeight: s('cpuWeight'),
    disk: s('disk'),
    opaqueDirs: Array.isArray(o.overlayfsOpaqueDirs) ? (o.overlayfsOpaqueDirs as string[]) : undefined,
    pod: s('pod'),
    ociPod: s('ociPod'),
    privateNetwork: b('privateNetwork'),
    networkVeth: b('networkVeth'),
    networkBridge: s('networkBridge'),
    networkZone: s('networkZone'),
    ports: l('port'),
    binds: l('bind'),
    envs: l('env'),
    userns: b('userns'),
    usernsNested: s('usernsNested'),
    dropCaps: l('dropCapability'),
    addCaps: l('capability'),
    // commander turns --no-X into X=false (default true)
    noNewPrivileges: o.newPrivileges === false,
    readOnly: b('readOnly'),
    systemCallFilter: l('systemCallFilter'),
    apparmorProfile: s('apparmorProfile'),
    hardened: b('hardened'),
    strict: b('strict'),
    systemdLogLevel: s('systemdLogLevel'),
    noOciPorts: o.ociPorts === false,
    noOciVolumes: o.ociVolumes === false,
    ociEnv: l('ociEnv'),
    enable: b('enable'),
    restart: s('restart'),
    maskedServices: s('maskedServices'),
    storage: s('storage'),
  };
}

/** `-t/--timeout S` -> seconds (positive integer) or undefined. */
/** One year: larger values end up in the shared template as TimeoutStartSec=1e+23s. */
export const MAX_TIMEOUT_SEC = 365 * 24 * 3600;

export function parseTimeout(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const t = String(v);
  if (!/^\d+$/.test(t) || Number(t) <= 0 || Number(t) > MAX_TIMEOUT_SEC) {
    throw new SdmeError(`invalid --timeout '${t}': expected a positive number of seconds (at most ${MAX_TIMEOUT_SEC})`);
  }
  return Number(t);
}
