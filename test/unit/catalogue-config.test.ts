import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'smol-toml';
import {
  CONFIG_KEYS,
  configFromToml,
  configSet,
  defaultConfig,
  formatConfig,
  dataDirProblem,
  loadConfig,
  MAX_TIMEOUT_SECS,
  parseConfigValue,
  parseSize,
} from '../../src/engine/catalogue/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sdme-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const confPath = (content?: string) => {
  const p = join(dir, `c${n++}.conf`);
  if (content !== undefined) writeFileSync(p, content);
  return p;
};

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['512', 512],
    ['10B', 10],
    ['2K', 2048],
    ['256M', 256 * 1024 ** 2],
    ['20G', 20 * 1024 ** 3],
    ['1T', 1024 ** 4],
  ])('%s = %d', (s, want) => expect(parseSize(s)).toBe(want));

  it.each(['', '1.5G', '2g', '10KB', 'G', '-1', ' 1G', '99999999999T'])('rejects %j', (s) => {
    expect(() => parseSize(s)).toThrow(/invalid size/);
  });
});

describe('loadConfig', () => {
  it('missing file means defaults', async () => {
    expect(await loadConfig(join(dir, 'absent.conf'))).toEqual(defaultConfig());
  });

  it('reads known keys, ignores unknown ones, reads tables', async () => {
    const c = await loadConfig(
      confPath(
        [
          'boot_timeout = 120',
          'interactive = false',
          'datadir = "/srv/sdme"',
          'something_new = "ignored"',
          '[update_check]',
          'enabled = false',
          '[distros.debian]',
          'import_prehook = ["apt-get update", "apt-get install -y dbus"]',
        ].join('\n'),
      ),
    );
    expect(c.boot_timeout).toBe(120);
    expect(c.interactive).toBe(false);
    expect(c.datadir).toBe('/srv/sdme');
    expect(c.update_check.enabled).toBe(false);
    expect(c.update_check.check_interval_hours).toBe(24);
    expect(c.distros).toEqual({ debian: { import_prehook: ['apt-get update', 'apt-get install -y dbus'] } });
    expect(c.tasks_max).toBe(16384);
    expect('something_new' in c).toBe(false);
  });

  it('wrong types and bad TOML are one-line errors naming the file', async () => {
    const p = confPath('boot_timeout = "soon"\n');
    await expect(loadConfig(p)).rejects.toThrow(`invalid value for boot_timeout in ${p}: expected an integer > 0`);
    const q = confPath('boot_timeout = \n');
    await expect(loadConfig(q)).rejects.toThrow(new RegExp(`^failed to parse ${q}: `));
    expect(() => configFromToml('interactive = "yes"')).toThrow('expected true or false');
  });
});

describe('parseConfigValue (config set validation)', () => {
  it('accepts every documented key, including the five upstream rejected', () => {
    for (const k of ['userns_nested_ranges', 'restart_sec', 'auto_fs_gc', 'default_create_masked_services', 'default_export_free_space']) {
      expect(CONFIG_KEYS).toContain(k);
    }
    expect(parseConfigValue('userns_nested_ranges', '2')).toBe(2);
    expect(parseConfigValue('restart_sec', '5')).toBe(5);
    expect(parseConfigValue('auto_fs_gc', 'no')).toBe(false);
    expect(parseConfigValue('default_create_masked_services', 'a.service,b.service')).toBe('a.service,b.service');
    expect(parseConfigValue('default_export_free_space', '1G')).toBe('1G');
  });

  it.each([
    ['interactive', 'no', false],
    ['boot_timeout', '90', 90],
    ['datadir', '/data/sdme', '/data/sdme'],
    ['host_rootfs_opaque_dirs', '', ''],
    ['host_rootfs_opaque_dirs', '/var/log', '/var/log'],
    ['hardened_drop_caps', 'CAP_SYS_ADMIN,CAP_NET_RAW', 'CAP_SYS_ADMIN,CAP_NET_RAW'],
    ['default_base_fs', 'ubuntu', 'ubuntu'],
    ['default_storage_backend', 'btrfs', 'btrfs'],
    ['default_output_format', 'json-pretty', 'json-pretty'],
    ['max_download_size', '0', '0'],
    ['oci_cache_max_size', '0', '0'],
    ['oci_cache_dir', '/cache', '/cache'],
    ['oci_manifest_cache_ttl', '0', 0],
    ['docker_user', 'me', 'me'],
    ['update_check.enabled', 'no', false],
    ['distros.fedora.import_prehook', 'dnf -y install systemd', ['dnf -y install systemd']],
    ['distros.fedora.export_prehook', '["a", "b c"]', ['a', 'b c']],
  ])('%s %j -> %j', (k, v, want) => {
    expect(parseConfigValue(k, v)).toEqual(want);
  });

  it.each([
    ['interactive', 'true', "invalid value 'true' for interactive: expected yes or no"],
    ['boot_timeout', '0', "invalid value '0' for boot_timeout: expected an integer > 0"],
    ['tasks_max', '-5', "invalid value '-5' for tasks_max: expected an integer > 0"],
    ['http_timeout', '1.5', "invalid value '1.5' for http_timeout: expected an integer >= 0"],
    ['datadir', 'relative/dir', "invalid value 'relative/dir' for datadir: must be an absolute path"],
    ['host_rootfs_opaque_dirs', '/a,/b/../c', "invalid value '/a,/b/../c' for host_rootfs_opaque_dirs: opaque dir '/b/../c' must not contain '..'"],
    ['hardened_drop_caps', 'CAP_FLY', "invalid value 'CAP_FLY' for hardened_drop_caps: unknown capability 'CAP_FLY'"],
    ['default_base_fs', 'Ubuntu', "invalid value 'Ubuntu' for default_base_fs: must start with a lowercase letter and contain only a-z, 0-9 and '-'"],
    ['default_storage_backend', 'zfs', "invalid value 'zfs' for default_storage_backend: expected one of '', overlay, btrfs, auto"],
    ['default_output_format', 'yaml', "invalid value 'yaml' for default_output_format: expected one of '', json, json-pretty"],
    ['btrfs_pool_size', '20GB', /invalid value '20GB' for btrfs_pool_size: invalid size/],
    ['oci_cache_dir', 'cache', "invalid value 'cache' for oci_cache_dir: must be an absolute path or empty"],
    ['default_create_masked_services', 'a/b.service', /must not contain '\/' or '\.\.'/],
    ['distros.fedora.import_prehook', '[1, 2]', /expected a JSON array of strings/],
    ['no_such_key', 'x', "unknown config key 'no_such_key'"],
    ['distros.fedora.other_hook', 'x', "unknown config key 'distros.fedora.other_hook'"],
  ])('%s %j is refused', (k, v, msg) => {
    expect(() => parseConfigValue(k, v)).toThrow(msg);
  });

  it('values equal to the default mean "remove the key"', () => {
    expect(parseConfigValue('boot_timeout', '60')).toBeUndefined();
    expect(parseConfigValue('interactive', 'yes')).toBeUndefined();
    expect(parseConfigValue('default_storage_backend', 'auto')).toBeUndefined();
    expect(parseConfigValue('btrfs_pool_size', '20G')).toBeUndefined();
    expect(parseConfigValue('distros.debian.import_prehook', '')).toBeUndefined();
  });
});

describe('configSet', () => {
  it('creates the file 0600 with just that key', async () => {
    const p = confPath();
    await configSet(p, 'docker_user', 'me');
    expect(readFileSync(p, 'utf8')).toBe('docker_user = "me"\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('edits surgically: comments, other keys and tables untouched', async () => {
    const original = [
      '# my sdme config',
      'boot_timeout = 30 # slow disks',
      'datadir = "/srv/sdme"',
      '',
      '[distros.debian]',
      'import_prehook = ["echo hi"]',
      '',
    ].join('\n');
    const p = confPath(original);
    await configSet(p, 'boot_timeout', '45');
    expect(readFileSync(p, 'utf8')).toBe(original.replace('boot_timeout = 30 # slow disks', 'boot_timeout = 45'));
    await configSet(p, 'interactive', 'no');
    expect(readFileSync(p, 'utf8')).toBe(
      [
        '# my sdme config',
        'boot_timeout = 45',
        'datadir = "/srv/sdme"',
        'interactive = false',
        '',
        '[distros.debian]',
        'import_prehook = ["echo hi"]',
        '',
      ].join('\n'),
    );
    const c = await loadConfig(p);
    expect(c.interactive).toBe(false);
    expect(c.boot_timeout).toBe(45);
    expect(c.distros.debian?.import_prehook).toEqual(['echo hi']);
  });

  it('setting the default removes the key', async () => {
    const p = confPath('boot_timeout = 30\ntasks_max = 100\n');
    await configSet(p, 'boot_timeout', '60');
    expect(readFileSync(p, 'utf8')).toBe('tasks_max = 100\n');
  });

  it('nested keys: adds a table, and removing the last key drops the table', async () => {
    const p = confPath('boot_timeout = 30\n');
    await configSet(p, 'update_check.enabled', 'no');
    expect(parse(readFileSync(p, 'utf8'))).toEqual({ boot_timeout: 30, update_check: { enabled: false } });
    await configSet(p, 'distros.arch.import_prehook', '["pacman -Sy"]');
    expect((await loadConfig(p)).distros.arch?.import_prehook).toEqual(['pacman -Sy']);
    await configSet(p, 'distros.arch.import_prehook', '');
    await configSet(p, 'update_check.enabled', 'yes');
    expect(parse(readFileSync(p, 'utf8'))).toEqual({ boot_timeout: 30 });
  });

  it('a multi-line value falls back to a full rewrite that keeps every other value', async () => {
    const p = confPath('hardened_drop_caps = """CAP_SYS_ADMIN,\nCAP_NET_RAW"""\nboot_timeout = 30\n');
    await configSet(p, 'hardened_drop_caps', 'CAP_SYS_BOOT');
    expect(parse(readFileSync(p, 'utf8'))).toEqual({ hardened_drop_caps: 'CAP_SYS_BOOT', boot_timeout: 30 });
  });

  it('an invalid value writes nothing', async () => {
    const p = confPath('boot_timeout = 30\n');
    await expect(configSet(p, 'boot_timeout', 'x')).rejects.toThrow(/boot_timeout/);
    await expect(configSet(p, 'bogus', 'x')).rejects.toThrow("unknown config key 'bogus'");
    expect(readFileSync(p, 'utf8')).toBe('boot_timeout = 30\n');
  });
});

describe('bad values: datadir, timeouts, loaded strings', () => {
  it.each([
    ['/', /must not be \//],
    ['//', /must not be \//],
    ['/tmp/../etc', /must not contain '\.\.'/],
    ['/srv/sdme/..', /must not contain '\.\.'/],
    ['/etc', /system directory/],
    ['/var/lib/', /system directory/],
    ['/usr//lib', /system directory/],
    ['/proc/self/cwd', /pseudo filesystem/],
    ['rel/x', /absolute/],
  ])('datadir %j is refused by config set and by the loader', async (dir, re) => {
    expect(dataDirProblem(dir)).toMatch(re);
    expect(() => parseConfigValue('datadir', dir)).toThrow(re);
    const p = confPath(`datadir = "${dir}"\n`);
    await expect(loadConfig(p)).rejects.toThrow(new RegExp(`^invalid value for datadir in ${p}: `));
    await expect(loadConfig(p)).rejects.toThrow(re);
  });

  it.each(['/var/lib/sdme', '/srv/sdme/', '/data/x/sdme', '/tmp/sdme-test'])('datadir %j is accepted', (dir) => {
    expect(dataDirProblem(dir)).toBeUndefined();
  });

  it('oci_cache_dir gets the same rules when set', () => {
    expect(() => parseConfigValue('oci_cache_dir', '/')).toThrow(/oci_cache_dir: must not be \//);
    expect(parseConfigValue('oci_cache_dir', '')).toBeUndefined();
  });

  it.each(['boot_timeout', 'stop_timeout_graceful', 'stop_timeout_terminate', 'stop_timeout_kill', 'restart_sec', 'http_timeout'])(
    '%s is capped at MAX_TIMEOUT_SECS in config set and in the loader',
    async (key) => {
      expect(MAX_TIMEOUT_SECS).toBe(86400);
      expect(parseConfigValue(key, String(MAX_TIMEOUT_SECS))).toBe(MAX_TIMEOUT_SECS);
      expect(() => parseConfigValue(key, String(MAX_TIMEOUT_SECS + 1))).toThrow(`for ${key}: must be at most 86400`);
      expect(() => parseConfigValue(key, '99999999999')).toThrow(/must be at most 86400/);
      const p = confPath(`${key} = 99999999999\n`);
      await expect(loadConfig(p)).rejects.toThrow(`invalid value for ${key} in ${p}: must be at most 86400`);
    },
  );

  it('the loader applies string checks and normalization', async () => {
    const p = confPath('default_output_format = "xml"\n');
    await expect(loadConfig(p)).rejects.toThrow(`invalid value for default_output_format in ${p}: 'xml' expected one of`);
    const q = confPath('hardened_drop_caps = "CAP_FLY"\n');
    await expect(loadConfig(q)).rejects.toThrow(/unknown capability 'CAP_FLY'/);
    expect((await loadConfig(confPath('default_storage_backend = "auto"\n'))).default_storage_backend).toBe('');
    await expect(loadConfig(confPath('datadir = 5\n'))).rejects.toThrow(/datadir .*expected a string/);
  });

  it('capabilities come from security/caps (all 41, including CHECKPOINT_RESTORE)', () => {
    expect(parseConfigValue('hardened_drop_caps', 'CAP_CHECKPOINT_RESTORE,CAP_BPF')).toBe('CAP_CHECKPOINT_RESTORE,CAP_BPF');
  });

  it('config set into a missing directory: one-line error naming it, nothing created', async () => {
    const p = join(dir, 'no-such-dir', 'sdme.conf');
    await expect(configSet(p, 'boot_timeout', '5')).rejects.toThrow(
      `cannot write config ${p}: directory ${join(dir, 'no-such-dir')} does not exist`,
    );
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('an empty config path is refused (not read as defaults)', async () => {
    await expect(loadConfig('')).rejects.toThrow('config path must not be empty');
    await expect(configSet('', 'boot_timeout', '5')).rejects.toThrow('config path must not be empty');
  });
});

describe('formatConfig', () => {
  it('prints key = value lines with yes/no booleans and a masked token', () => {
    const c = defaultConfig();
    c.docker_token = 'dckr_pat_abcdefgh1234';
    c.distros.debian = { import_prehook: ['a b'] };
    const lines = formatConfig(c).split('\n');
    expect(lines).toContain('interactive = yes');
    expect(lines).toContain('datadir = /var/lib/sdme');
    expect(lines).toContain('boot_timeout = 60');
    expect(lines).toContain('auto_fs_gc = yes');
    expect(lines).toContain('default_output_format = ');
    expect(lines).toContain('docker_token = dckr...1234');
    expect(lines).toContain('distros.debian.import_prehook = ["a b"]');
    for (const k of CONFIG_KEYS) expect(lines.some((l) => l.startsWith(`${k} = `))).toBe(true);
  });
});
