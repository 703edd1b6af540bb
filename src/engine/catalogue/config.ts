/**
 * /etc/sdme.conf (TOML), layout-and-state.md §4. Field names are the TOML
 * keys. `configSet` validates one key, edits the file surgically (other keys,
 * tables and comments untouched when possible), writes atomically with 0600,
 * and removes the key when the value equals the built-in default.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, posix } from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { SdmeError } from '../errors.js';
import { writeFileAtomic } from './kv.js';
import { isValidName, nameProblem } from './names.js';
import { DEFAULT_DATADIR } from './paths.js';
import { KNOWN_CAPS as CAP_LIST } from '../security/caps.js';

export interface DistroHooks {
  import_prehook?: string[];
  export_prehook?: string[];
  export_vm_prehook?: string[];
}

export interface UpdateCheckConfig {
  enabled: boolean;
  version_url: string;
  binary_url_template: string;
  checksums_url_template: string;
  check_interval_hours: number;
}

export interface Config {
  interactive: boolean;
  datadir: string;
  boot_timeout: number;
  join_as_sudo_user: boolean;
  host_rootfs_opaque_dirs: string;
  hardened_drop_caps: string;
  userns_nested_ranges: number;
  default_base_fs: string;
  /** '' = auto */
  default_storage_backend: string;
  btrfs_pool_size: string;
  default_output_format: string;
  tasks_max: number;
  stop_timeout_graceful: number;
  stop_timeout_terminate: number;
  stop_timeout_kill: number;
  restart_sec: number;
  default_create_masked_services: string;
  auto_fs_gc: boolean;
  max_download_size: string;
  http_timeout: number;
  http_body_timeout: number;
  /** '' = {datadir}/cache/oci */
  oci_cache_dir: string;
  oci_cache_max_size: string;
  oci_manifest_cache_ttl: number;
  docker_user: string;
  docker_token: string;
  default_kube_registry: string;
  default_export_fs: string;
  default_export_free_space: string;
  update_check: UpdateCheckConfig;
  distros: Record<string, DistroHooks>;
}

export function defaultConfig(): Config {
  return {
    interactive: true,
    datadir: DEFAULT_DATADIR,
    boot_timeout: 60,
    join_as_sudo_user: true,
    host_rootfs_opaque_dirs: '/etc/systemd/system,/var/log',
    hardened_drop_caps: 'CAP_SYS_PTRACE,CAP_NET_RAW,CAP_SYS_RAWIO,CAP_SYS_BOOT',
    userns_nested_ranges: 0,
    default_base_fs: '',
    default_storage_backend: '',
    btrfs_pool_size: '20G',
    default_output_format: '',
    tasks_max: 16384,
    stop_timeout_graceful: 90,
    stop_timeout_terminate: 30,
    stop_timeout_kill: 15,
    restart_sec: 2,
    default_create_masked_services: 'systemd-resolved.service',
    auto_fs_gc: true,
    max_download_size: '50G',
    http_timeout: 30,
    http_body_timeout: 300,
    oci_cache_dir: '',
    oci_cache_max_size: '10G',
    oci_manifest_cache_ttl: 900,
    docker_user: '',
    docker_token: '',
    default_kube_registry: 'docker.io',
    default_export_fs: 'ext4',
    default_export_free_space: '256M',
    update_check: {
      enabled: true,
      version_url: '',
      binary_url_template: '',
      checksums_url_template: '',
      check_interval_hours: 24,
    },
    distros: {},
  };
}

// ---------------------------------------------------------------- sizes

const SIZE_UNITS: Record<string, bigint> = { B: 1n, K: 1024n, M: 1024n ** 2n, G: 1024n ** 3n, T: 1024n ** 4n };
const U64_MAX = 2n ** 64n - 1n;

/** parse_size: integer + optional single upper-case suffix B|K|M|G|T (powers of 1024); no decimals; u64 overflow rejected. */
export function parseSize(s: string): number {
  const m = /^(\d+)([BKMGT]?)$/.exec(s);
  if (!m) throw new SdmeError(`invalid size '${s}': expected a whole number with optional suffix B, K, M, G or T`);
  const bytes = BigInt(m[1]!) * (m[2] ? SIZE_UNITS[m[2]]! : 1n);
  if (bytes > U64_MAX) throw new SdmeError(`invalid size '${s}': too large`);
  return Number(bytes);
}

// ---------------------------------------------------------------- key table

const KNOWN_CAPS: ReadonlySet<string> = new Set(CAP_LIST);

/**
 * Upper bound for timeouts in seconds (boot/stop/restart/http). Node timers
 * overflow above 2^31-1 ms (~24.8 days); a day is already absurd for a boot.
 * Exported so the CLI's `-t/--timeout` parsing uses the same cap.
 */
export const MAX_TIMEOUT_SECS = 86_400;

/**
 * Directories that must never be the datadir (or the OCI cache): sdme chmods
 * its datadir to 0700 and creates state/, containers/, fs/ in it.
 */
const SYSTEM_DIRS = new Set([
  '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt',
  '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var',
  '/usr/bin', '/usr/lib', '/usr/lib64', '/usr/local', '/usr/sbin', '/usr/share',
  '/var/lib', '/var/log', '/var/cache', '/var/tmp', '/var/lib/machines', '/etc/systemd', '/etc/systemd/system',
]);
/** Pseudo filesystems: nothing under them can hold sdme data. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/** Why `dir` cannot be a data directory, or undefined if it can. */
export function dataDirProblem(dir: string): string | undefined {
  if (!isAbsolute(dir)) return 'must be an absolute path';
  if (dir.split('/').includes('..')) return "must not contain '..'";
  const norm = posix.normalize(dir).replace(/(.)\/+$/, '$1');
  if (norm === '/') return 'must not be / (sdme creates state/, containers/ and fs/ in it and makes it 0700)';
  if (SYSTEM_DIRS.has(norm)) return `${norm} is a system directory; use a dedicated one such as ${DEFAULT_DATADIR}`;
  const pseudo = PSEUDO_ROOTS.find((r) => norm.startsWith(`${r}/`));
  if (pseudo) return `must not be under ${pseudo} (a pseudo filesystem)`;
  return undefined;
}

type TomlScalar = boolean | number | string;
type Kind = 'bool' | 'uint' | 'posint' | 'string';

interface KeySpec {
  kind: Kind;
  /** inclusive upper bound for integers (default: Number.MAX_SAFE_INTEGER) */
  max?: number;
  /** extra check for strings: why the value is invalid, or undefined */
  check?: (v: string) => string | undefined;
  /** normalize the accepted string (e.g. `auto` -> '') */
  normalize?: (v: string) => string;
}

function bad(key: string, value: string, why: string): never {
  throw new SdmeError(`invalid value '${value}' for ${key}: ${why}`);
}

function oneOf(...allowed: string[]) {
  return (v: string) =>
    allowed.includes(v) ? undefined : `expected one of ${allowed.map((a) => (a === '' ? "''" : a)).join(', ')}`;
}

const dataDirOrEmpty = (v: string) => {
  if (v === '') return undefined;
  return isAbsolute(v) ? dataDirProblem(v) : 'must be an absolute path or empty';
};
const sizeCheck = (v: string) => {
  try {
    parseSize(v);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};
const opaqueDirs = (v: string) => {
  if (v === '') return undefined;
  for (const d of v.split(',').map((x) => x.trim())) {
    if (!d.startsWith('/') || d === '/') return `opaque dir '${d}' must be an absolute path other than /`;
    if (d.split('/').includes('..')) return `opaque dir '${d}' must not contain '..'`;
  }
  return undefined;
};
const caps = (v: string) => {
  const unknown = v.split(',').map((x) => x.trim()).filter(Boolean).find((c) => !KNOWN_CAPS.has(c));
  return unknown === undefined ? undefined : `unknown capability '${unknown}'`;
};
const maskedServices = (v: string) => {
  const badName = v.split(',').map((x) => x.trim()).filter(Boolean).find((x) => x.includes('/') || x.includes('..'));
  return badName === undefined ? undefined : `service name '${badName}' must not contain '/' or '..'`;
};
const baseFs = (v: string) => (v !== '' && !isValidName(v) ? nameProblem(v) : undefined);

/** Why an integer is out of range for the key, or undefined. */
function intProblem(spec: KeySpec, n: number): string | undefined {
  const min = spec.kind === 'posint' ? 1 : 0;
  if (!Number.isSafeInteger(n) || n < min) return spec.kind === 'posint' ? 'expected an integer > 0' : 'expected an integer >= 0';
  if (spec.max !== undefined && n > spec.max) return `must be at most ${spec.max}`;
  return undefined;
}

const KEYS: Record<string, KeySpec> = {
  interactive: { kind: 'bool' },
  datadir: { kind: 'string', check: dataDirProblem },
  boot_timeout: { kind: 'posint', max: MAX_TIMEOUT_SECS },
  join_as_sudo_user: { kind: 'bool' },
  host_rootfs_opaque_dirs: { kind: 'string', check: opaqueDirs },
  hardened_drop_caps: { kind: 'string', check: caps },
  userns_nested_ranges: { kind: 'uint' },
  default_base_fs: { kind: 'string', check: baseFs },
  default_storage_backend: {
    kind: 'string',
    check: oneOf('', 'overlay', 'btrfs', 'auto'),
    normalize: (v) => (v === 'auto' ? '' : v),
  },
  btrfs_pool_size: { kind: 'string', check: sizeCheck },
  default_output_format: { kind: 'string', check: oneOf('', 'json', 'json-pretty') },
  tasks_max: { kind: 'posint' },
  stop_timeout_graceful: { kind: 'posint', max: MAX_TIMEOUT_SECS },
  stop_timeout_terminate: { kind: 'posint', max: MAX_TIMEOUT_SECS },
  stop_timeout_kill: { kind: 'posint', max: MAX_TIMEOUT_SECS },
  restart_sec: { kind: 'uint', max: MAX_TIMEOUT_SECS },
  default_create_masked_services: { kind: 'string', check: maskedServices },
  auto_fs_gc: { kind: 'bool' },
  max_download_size: { kind: 'string', check: sizeCheck },
  http_timeout: { kind: 'uint', max: MAX_TIMEOUT_SECS },
  http_body_timeout: { kind: 'uint', max: MAX_TIMEOUT_SECS },
  oci_cache_dir: { kind: 'string', check: dataDirOrEmpty },
  oci_cache_max_size: { kind: 'string', check: sizeCheck },
  oci_manifest_cache_ttl: { kind: 'uint' },
  docker_user: { kind: 'string' },
  docker_token: { kind: 'string' },
  default_kube_registry: { kind: 'string' },
  default_export_fs: { kind: 'string', check: oneOf('ext4', 'btrfs', 'xfs') },
  default_export_free_space: { kind: 'string', check: sizeCheck },
  'update_check.enabled': { kind: 'bool' },
  'update_check.version_url': { kind: 'string' },
  'update_check.binary_url_template': { kind: 'string' },
  'update_check.checksums_url_template': { kind: 'string' },
  'update_check.check_interval_hours': { kind: 'uint' },
};

export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);
const HOOKS = ['import_prehook', 'export_prehook', 'export_vm_prehook'] as const;

function getPath(obj: unknown, parts: readonly string[]): unknown {
  let cur = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Convert a TOML value for a known key (type, range and string checks), or throw naming the file. */
function fromToml(key: string, spec: KeySpec, v: unknown, path: string): TomlScalar {
  const wrong = (why: string): never => {
    throw new SdmeError(`invalid value for ${key} in ${path}: ${why}`);
  };
  switch (spec.kind) {
    case 'bool':
      return typeof v === 'boolean' ? v : wrong('expected true or false');
    case 'uint':
    case 'posint': {
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        return wrong(spec.kind === 'posint' ? 'expected an integer > 0' : 'expected an integer >= 0');
      }
      const why = intProblem(spec, n);
      return why ? wrong(why) : n;
    }
    case 'string': {
      if (typeof v !== 'string') return wrong('expected a string');
      const why = spec.check?.(v);
      if (why) wrong(`'${v}' ${why}`);
      return spec.normalize ? spec.normalize(v) : v;
    }
  }
}

function parseFile(text: string, path: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    throw new SdmeError(`failed to parse ${path}: ${first}`);
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SdmeError(`failed to read ${path}: ${(e as Error).message}`);
  }
}

/** Config from a TOML text; unknown keys are ignored, wrong types are errors. */
export function configFromToml(text: string, path = 'config'): Config {
  const table = parseFile(text, path);
  const cfg = defaultConfig();
  for (const [key, spec] of Object.entries(KEYS)) {
    const parts = key.split('.');
    const v = getPath(table, parts);
    if (v === undefined) continue;
    const val = fromToml(key, spec, v, path);
    if (parts.length === 1) (cfg as unknown as Record<string, unknown>)[key] = val;
    else (cfg.update_check as unknown as Record<string, unknown>)[parts[1]!] = val;
  }
  const distros = table.distros;
  if (distros && typeof distros === 'object' && !Array.isArray(distros)) {
    for (const [family, hooks] of Object.entries(distros as Record<string, unknown>)) {
      if (!hooks || typeof hooks !== 'object' || Array.isArray(hooks)) continue;
      const out: DistroHooks = {};
      for (const h of HOOKS) {
        const v = (hooks as Record<string, unknown>)[h];
        if (v === undefined) continue;
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
          throw new SdmeError(`invalid value for distros.${family}.${h} in ${path}: expected an array of strings`);
        }
        out[h] = [...(v as string[])];
      }
      cfg.distros[family] = out;
    }
  }
  return cfg;
}

function checkConfigPath(path: string): void {
  if (path === '') throw new SdmeError('config path must not be empty');
}

/** Load the config; a missing file means all defaults. */
export async function loadConfig(path: string): Promise<Config> {
  checkConfigPath(path);
  const text = await readText(path);
  return text === undefined ? defaultConfig() : configFromToml(text, path);
}

// ---------------------------------------------------------------- config set

type TomlValue = TomlScalar | string[];

/** Validate KEY VALUE as typed by the user; returns the TOML value, or undefined to remove the key. */
export function parseConfigValue(key: string, value: string): TomlValue | undefined {
  const hook = /^distros\.([^.]+)\.(import_prehook|export_prehook|export_vm_prehook)$/.exec(key);
  if (hook) {
    if (value === '') return undefined;
    if (value.trimStart().startsWith('[')) {
      let arr: unknown;
      try {
        arr = JSON.parse(value);
      } catch {
        bad(key, value, 'expected a JSON array of strings');
      }
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) {
        bad(key, value, 'expected a JSON array of strings');
      }
      return arr as string[];
    }
    return [value];
  }
  const spec = KEYS[key];
  if (!spec) throw new SdmeError(`unknown config key '${key}'`);
  if (/[\r\n]/.test(value)) bad(key, value.replace(/[\r\n]/g, ' '), 'must not contain a newline');
  let out: TomlScalar;
  switch (spec.kind) {
    case 'bool':
      if (value !== 'yes' && value !== 'no') bad(key, value, 'expected yes or no');
      out = value === 'yes';
      break;
    case 'uint':
    case 'posint': {
      const why = /^\d+$/.test(value) ? intProblem(spec, Number(value)) : intProblem(spec, NaN);
      if (why) bad(key, value, why);
      out = Number(value);
      break;
    }
    case 'string': {
      const why = spec.check?.(value);
      if (why) bad(key, value, why);
      out = spec.normalize ? spec.normalize(value) : value;
      break;
    }
  }
  const parts = key.split('.');
  const def = getPath(defaultConfig(), parts);
  return def === out ? undefined : out;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return typeof val === 'bigint' ? Number(val) : val;
  });
}

/** Set (or remove) a dotted key in a parsed table, dropping tables left empty. */
function setIn(table: Record<string, unknown>, parts: readonly string[], value: TomlValue | undefined): void {
  const [head, ...rest] = parts;
  if (rest.length === 0) {
    if (value === undefined) delete table[head!];
    else table[head!] = value;
    return;
  }
  let child = table[head!];
  if (child === null || typeof child !== 'object' || Array.isArray(child)) {
    if (value === undefined) return;
    child = {};
    table[head!] = child;
  }
  setIn(child as Record<string, unknown>, rest, value);
  if (Object.keys(child as object).length === 0) delete table[head!];
}

const HEADER_RE = /^\s*\[/;

function keyLineRe(leaf: string): RegExp {
  const esc = leaf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*(?:${esc}|"${esc}"|'${esc}')\\s*=`);
}

function tableHeaderMatches(line: string, tablePath: readonly string[]): boolean {
  const m = /^\s*\[\s*([^\][]+?)\s*\]\s*(#.*)?$/.exec(line);
  if (!m) return false;
  return m[1]!.split('.').map((s) => s.trim().replace(/^"(.*)"$/, '$1')).join('.') === tablePath.join('.');
}

/** Line-level edit of one key; the caller verifies the result and falls back to a rewrite. */
function surgicalEdit(text: string, parts: readonly string[], value: TomlValue | undefined): string {
  const lines = text.split('\n');
  const leaf = parts[parts.length - 1]!;
  const tablePath = parts.slice(0, -1);
  // region [start, end) holding the table's own keys
  let start = 0;
  let end = lines.length;
  if (tablePath.length > 0) {
    const h = lines.findIndex((l) => tableHeaderMatches(l, tablePath));
    if (h < 0) {
      if (value === undefined) return text;
      const sep = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
      return `${text}${sep}[${tablePath.join('.')}]\n${stringifyToml({ [leaf]: value }).trim()}\n`;
    }
    start = h + 1;
  }
  for (let i = start; i < lines.length; i++) {
    if (HEADER_RE.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  const re = keyLineRe(leaf);
  const at = lines.slice(start, end).findIndex((l) => re.test(l));
  const newLine = value === undefined ? undefined : stringifyToml({ [leaf]: value }).trim();
  if (at >= 0) {
    if (newLine === undefined) lines.splice(start + at, 1);
    else lines[start + at] = newLine;
    return lines.join('\n');
  }
  if (newLine === undefined) return text;
  // insert after the last non-blank line of the region
  let ins = end;
  while (ins > start && lines[ins - 1]!.trim() === '') ins--;
  lines.splice(ins, 0, newLine);
  const out = lines.join('\n');
  return out.endsWith('\n') || out === '' ? out : `${out}\n`;
}

/**
 * `config set KEY VALUE`: validate, then edit only that key. A value equal to
 * the default removes the key. Written atomically with mode 0600.
 */
export async function configSet(path: string, key: string, value: string): Promise<void> {
  checkConfigPath(path);
  const tomlValue = parseConfigValue(key, value);
  const text = (await readText(path)) ?? '';
  const before = parseFile(text, path);
  const parts = key.split('.');
  const expected = structuredClone(before) as Record<string, unknown>;
  setIn(expected, parts, tomlValue);

  let out = surgicalEdit(text, parts, tomlValue);
  let ok = false;
  try {
    ok = canonical(parseToml(out)) === canonical(expected);
  } catch {
    ok = false;
  }
  if (!ok) out = Object.keys(expected).length === 0 ? '' : stringifyToml(expected) + '\n';
  await writeConfigFile(path, out);
}

/** writeFileAtomic with one-line errors: a missing or unusable directory is the user's to fix. */
async function writeConfigFile(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new SdmeError(`cannot write config ${path}: directory ${dir} does not exist`);
  if (!st.isDirectory()) throw new SdmeError(`cannot write config ${path}: ${dir} is not a directory`);
  try {
    await writeFileAtomic(path, text, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === undefined) throw e;
    // node's message is "CODE: text, syscall 'path'"; keep "CODE: text"
    throw new SdmeError(`cannot write config ${path}: ${(e as Error).message.split(',')[0]}`, { cause: e });
  }
}

// ---------------------------------------------------------------- config get

function yn(b: boolean): string {
  return b ? 'yes' : 'no';
}

function maskToken(t: string): string {
  if (t === '') return '';
  return t.length <= 8 ? '*'.repeat(t.length) : `${t.slice(0, 4)}...${t.slice(-4)}`;
}

/** `key = value` lines (booleans as yes/no, docker_token masked), then configured distro hooks. */
export function formatConfig(c: Config): string {
  const rows: [string, string | number][] = [
    ['interactive', yn(c.interactive)],
    ['datadir', c.datadir],
    ['boot_timeout', c.boot_timeout],
    ['join_as_sudo_user', yn(c.join_as_sudo_user)],
    ['host_rootfs_opaque_dirs', c.host_rootfs_opaque_dirs],
    ['hardened_drop_caps', c.hardened_drop_caps],
    ['userns_nested_ranges', c.userns_nested_ranges],
    ['default_base_fs', c.default_base_fs],
    ['default_storage_backend', c.default_storage_backend],
    ['btrfs_pool_size', c.btrfs_pool_size],
    ['default_output_format', c.default_output_format],
    ['default_kube_registry', c.default_kube_registry],
    ['default_export_fs', c.default_export_fs],
    ['default_export_free_space', c.default_export_free_space],
    ['tasks_max', c.tasks_max],
    ['docker_user', c.docker_user],
    ['docker_token', maskToken(c.docker_token)],
    ['oci_cache_dir', c.oci_cache_dir],
    ['oci_cache_max_size', c.oci_cache_max_size],
    ['oci_manifest_cache_ttl', c.oci_manifest_cache_ttl],
    ['http_timeout', c.http_timeout],
    ['http_body_timeout', c.http_body_timeout],
    ['max_download_size', c.max_download_size],
    ['stop_timeout_graceful', c.stop_timeout_graceful],
    ['stop_timeout_terminate', c.stop_timeout_terminate],
    ['stop_timeout_kill', c.stop_timeout_kill],
    ['restart_sec', c.restart_sec],
    ['auto_fs_gc', yn(c.auto_fs_gc)],
    ['default_create_masked_services', c.default_create_masked_services],
    ['update_check.enabled', yn(c.update_check.enabled)],
    ['update_check.version_url', c.update_check.version_url],
    ['update_check.binary_url_template', c.update_check.binary_url_template],
    ['update_check.checksums_url_template', c.update_check.checksums_url_template],
    ['update_check.check_interval_hours', c.update_check.check_interval_hours],
  ];
  for (const family of Object.keys(c.distros).sort()) {
    for (const h of HOOKS) {
      const v = c.distros[family]![h];
      if (v !== undefined) rows.push([`distros.${family}.${h}`, JSON.stringify(v)]);
    }
  }
  return rows.map(([k, v]) => `${k} = ${v}\n`).join('');
}

/** Effective OCI cache dir (config value or {datadir}/cache/oci). */
export function ociCacheDir(c: Config): string {
  return c.oci_cache_dir !== '' ? c.oci_cache_dir : `${c.datadir}/cache/oci`;
}
