/**
 * Allow-list validators for every create-time value that ends up in a unit
 * file, an nspawn argument or a state file (network-pods-security.md §4-§7,
 * lifecycle.md §2, §8). Pure: no file system access (bind host existence is
 * checked by bind-hosts.ts).
 */
import { parseSize } from '../catalogue/config.js';
import { showName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';
import type { BindSpec } from '../types.js';

/** A value quoted for an error line; long values are cut (the line stays readable). */
const q = (s: string) => (s.length > 64 ? `'${showName(s.slice(0, 32))}...' (${Buffer.byteLength(s)} bytes)` : `'${showName(s)}'`);

// ------------------------------------------------------------ seccomp / apparmor / log level / restart

/** One `--system-call-filter` token: optional `~`, then `@group` or a bare syscall name. */
export function validateSyscallFilter(token: string): string {
  if (token === '' || token === '~' || token === '@' || token === '~@') {
    throw new SdmeError(
      `invalid --system-call-filter ${q(token)}: ${token.endsWith('@') ? 'the group name' : 'the filter'} cannot be empty`,
    );
  }
  if (!/^~?(@[A-Za-z0-9-]+|[a-z0-9_]+)$/.test(token)) {
    throw new SdmeError(
      `invalid --system-call-filter ${q(token)}: expected [~]@group (letters, digits, '-') or [~]syscall (a-z, 0-9, '_')`,
    );
  }
  return token;
}

/** Splits each value on `,`, validates every token; an empty value or item (`''`, `a,,b`) is an error. */
export function parseSyscallFilters(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const parts = v.split(',').map((s) => s.trim());
    if (parts.some((p) => p === '')) throw new SdmeError(`invalid --system-call-filter ${q(v)}: cannot be empty`);
    for (const p of parts) out.push(validateSyscallFilter(p));
  }
  return out;
}

export function validateApparmorProfile(p: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(p)) {
    throw new SdmeError(`invalid --apparmor-profile ${q(p)}: only letters, digits, '.', '_' and '-' are allowed`);
  }
  return p;
}

export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function validateLogLevel(l: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(l)) {
    throw new SdmeError(`invalid --systemd-log-level ${q(l)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return l as LogLevel;
}

/** `no|Never|never` -> 'no'; `on-failure|OnFailure|onfailure` -> 'on-failure'; `always` refused with the reason. */
export function normalizeRestartPolicy(s: string): 'no' | 'on-failure' {
  if (s === 'no' || s === 'Never' || s === 'never') return 'no';
  if (s === 'on-failure' || s === 'OnFailure' || s === 'onfailure') return 'on-failure';
  if (s.toLowerCase() === 'always') {
    throw new SdmeError(
      "--restart always is not supported: a clean stop (TerminateMachine) is not a stop job on systemd 256+, " +
        'so Restart=always would bring the container back; use --restart on-failure',
    );
  }
  throw new SdmeError(`invalid --restart ${q(s)}: expected 'no' or 'on-failure'`);
}

// ------------------------------------------------------------ paths

/** Linux NAME_MAX: bytes in one path component. */
export const NAME_MAX = 255;
/** Linux PATH_MAX - 1: bytes in a whole path (without the NUL). */
export const PATH_MAX = 4095;

/** Length limits the kernel enforces (ENAMETOOLONG). Returns the reason or undefined. */
export function pathLengthProblem(p: string): string | undefined {
  if (Buffer.byteLength(p) > PATH_MAX) return `path is longer than ${PATH_MAX} bytes`;
  const long = p.split('/').find((c) => Buffer.byteLength(c) > NAME_MAX);
  if (long !== undefined) return `a path component is longer than ${NAME_MAX} bytes`;
  return undefined;
}

/** Absolute, no `..` component, kernel length limits. Returns the reason or undefined. */
function absPathProblem(p: string): string | undefined {
  if (p === '') return 'path is empty';
  if (!p.startsWith('/')) return 'path must be absolute';
  if (p.split('/').includes('..')) return "path must not contain '..'";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(p)) return 'path must not contain control characters';
  return pathLengthProblem(p);
}

/**
 * `-b HOST:CONTAINER[:ro]`: a trailing `:ro` makes it read-only; the rest is
 * split on the first `:`. Paths containing `:` cannot be stored in the state
 * format (`HOST:CONTAINER:MODE`), so they are refused.
 */
export function parseBind(spec: string): BindSpec {
  const bad = (why: string) => new SdmeError(`invalid --bind ${q(spec)}: ${why}`);
  let rest = spec;
  let mode: 'rw' | 'ro' = 'rw';
  if (rest.endsWith(':ro')) {
    mode = 'ro';
    rest = rest.slice(0, -3);
  }
  const i = rest.indexOf(':');
  if (i < 0) throw bad('expected HOST:CONTAINER[:ro]');
  const host = rest.slice(0, i);
  const container = rest.slice(i + 1);
  if (host === '' || container === '') throw bad('expected HOST:CONTAINER[:ro] with both paths non-empty');
  if (container.includes(':')) throw bad("paths containing ':' are not supported (the only option is ':ro')");
  for (const [what, p] of [['host', host], ['container', container]] as const) {
    const problem = absPathProblem(p);
    if (problem) throw bad(`${what} ${problem}`);
    if (p.includes('|')) throw bad(`${what} path must not contain '|'`);
  }
  return { host, container, mode };
}

/** Inverse of parseBind in the state format `HOST:CONTAINER:rw|ro`. */
export function formatBind(b: BindSpec): string {
  return `${b.host}:${b.container}:${b.mode}`;
}

/** `-e KEY=VALUE` (also `--oci-env`): KEY `[A-Za-z_][A-Za-z0-9_]*`, VALUE without `|`. */
export function parseEnv(spec: string, flag = '--env'): string {
  const i = spec.indexOf('=');
  const bad = (why: string) => new SdmeError(`invalid ${flag} ${q(spec)}: ${why}`);
  if (i < 0) throw bad('expected KEY=VALUE');
  const key = spec.slice(0, i);
  const value = spec.slice(i + 1);
  if (key === '') throw bad('KEY must not be empty');
  if (/^[0-9]/.test(key)) throw bad('KEY must not start with a digit');
  if (!/^[A-Za-z0-9_]+$/.test(key)) throw bad('KEY may contain only letters, digits and _');
  if (value.includes('|')) throw bad("VALUE must not contain '|'");
  // eslint-disable-next-line no-control-regex
  if (/[\x00\n\r]/.test(value)) throw bad('VALUE must not contain newlines or NUL');
  return spec;
}

/** `-o` / config opaque dirs: absolute, no `..`, trailing slashes dropped, no duplicates. */
export function normalizeOpaqueDirs(dirs: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const problem = d === '' ? 'path is empty' : absPathProblem(d);
    if (problem) throw new SdmeError(`invalid opaque dir ${q(d)}: ${problem}`);
    const n = d.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
    if (n === '') throw new SdmeError(`invalid opaque dir ${q(d)}: '/' cannot be opaque`);
    if (out.includes(n)) throw new SdmeError(`duplicate opaque dir ${q(n)}`);
    out.push(n);
  }
  return out;
}

/** Masked service names: no `/`, no `..`, one file name (symlinks in upper/etc/systemd/system). */
export function validateMaskedService(s: string): string {
  if (s.includes('/') || s.includes('..')) {
    throw new SdmeError(`invalid masked service ${q(s)}: must not contain '/' or '..'`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(s)) throw new SdmeError(`invalid masked service ${q(s)}: control characters`);
  if (Buffer.byteLength(s) > NAME_MAX) throw new SdmeError(`invalid masked service ${q(s)}: longer than ${NAME_MAX} bytes`);
  return s;
}

/** Comma list -> trimmed, non-empty, validated items. */
export function parseMaskedServices(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(validateMaskedService);
}

// ------------------------------------------------------------ network names

/** Linux IFNAMSIZ-1. */
export const IFNAME_MAX = 15;

/** `--network-bridge B`: `[A-Za-z0-9_-]+`, at most 15 bytes (an existing interface name). */
export function validateBridgeName(b: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(b)) {
    throw new SdmeError(`invalid --network-bridge ${q(b)}: only letters, digits, '_' and '-' are allowed`);
  }
  if (b.length > IFNAME_MAX) throw new SdmeError(`invalid --network-bridge ${q(b)}: at most ${IFNAME_MAX} characters`);
  return b;
}

/** `--network-zone Z`: same charset; nspawn names the bridge `vz-Z`, which must fit 15 bytes. */
export function validateZoneName(z: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(z)) {
    throw new SdmeError(`invalid --network-zone ${q(z)}: only letters, digits, '_' and '-' are allowed`);
  }
  if (z.length > IFNAME_MAX - 3) {
    throw new SdmeError(`invalid --network-zone ${q(z)}: at most ${IFNAME_MAX - 3} characters (bridge 'vz-${z}' must fit ${IFNAME_MAX})`);
  }
  return z;
}

// ------------------------------------------------------------ limits

/**
 * Largest `--memory`: 8191T, below 2^53 bytes, so every reader that turns the
 * size into a JS number (ps, TUI, inspect) gets it exactly, never 1e+N.
 */
export const MAX_MEMORY_BYTES = 8191 * 2 ** 40;

/** `--memory`: digits plus optional K/M/G/T (no B, no decimals), > 0, <= 8191T. Returned verbatim. */
export function validateMemory(v: string): string {
  if (!/^\d+[KMGT]?$/.test(v)) {
    throw new SdmeError(`invalid --memory ${q(v)}: expected a whole number with optional suffix K, M, G or T (e.g. 512M, 2G)`);
  }
  let bytes: number;
  try {
    bytes = parseSize(v);
  } catch {
    bytes = Infinity;
  }
  if (bytes > MAX_MEMORY_BYTES) throw new SdmeError(`invalid --memory ${q(v)}: too large (at most 8191T)`);
  if (bytes === 0) throw new SdmeError(`invalid --memory ${q(v)}: must be greater than zero`);
  return v;
}

/** Largest `--cpus` (CPUQuota=102400%): more CPUs than any host sdme runs on. */
export const MAX_CPUS = 1024;

/** `--cpus`: decimal number > 0 and <= 1024 (e.g. `0.5`, `2`); CPUQuota must come out at least 1%. */
export function validateCpus(v: string): string {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v) || !(Number(v) > 0)) {
    throw new SdmeError(`invalid --cpus ${q(v)}: expected a number greater than 0 (e.g. 0.5, 2)`);
  }
  if (Number(v) > MAX_CPUS) throw new SdmeError(`invalid --cpus ${q(v)}: at most ${MAX_CPUS}`);
  if (cpuQuotaPercent(v) < 1) throw new SdmeError(`invalid --cpus ${q(v)}: must be at least 0.01`);
  return v;
}

/** CPUQuota percentage: round(cpus*100), an integer (validated cpus keep it <= 102400). */
export function cpuQuotaPercent(cpus: string): number {
  return Math.round(Number(cpus) * 100);
}

/** `--cpu-weight`: integer 1-10000, returned without leading zeros (`00005` -> `5`). */
export function validateCpuWeight(v: string): string {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 10000) {
    throw new SdmeError(`invalid --cpu-weight ${q(v)}: expected an integer from 1 to 10000`);
  }
  return String(Number(v));
}

/** `--disk`: a size of at least 16M (btrfs only). */
export function validateDisk(v: string): string {
  let bytes: number;
  try {
    bytes = parseSize(v);
  } catch (e) {
    throw new SdmeError(`invalid --disk ${q(v)}: ${(e as Error).message.replace(/^invalid size '[^']*': /, '')}`);
  }
  if (bytes < 16 * 1024 * 1024) throw new SdmeError(`invalid --disk ${q(v)}: must be at least 16M`);
  return v;
}

/** `--userns-nested N`: integer >= 0. */
export function validateUsernsNested(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1000) {
    throw new SdmeError(`invalid --userns-nested ${q(v)}: expected an integer from 0 to 1000`);
  }
  return Number(v);
}
