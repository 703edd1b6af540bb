import { describe, expect, it } from 'vitest';
import {
  formatBind,
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
  validateSyscallFilter,
  validateZoneName,
  cpuQuotaPercent,
  MAX_MEMORY_BYTES,
  NAME_MAX,
  PATH_MAX,
  pathLengthProblem,
} from '../../src/engine/security/validate.js';
import { assertUniquePorts, normalizePort, parsePort } from '../../src/engine/network/ports.js';

describe('syscall filters', () => {
  it.each(['@system-service', '~@debug', 'ptrace', '~open_by_handle_at', '@raw-io'])('accepts %s', (t) =>
    expect(validateSyscallFilter(t)).toBe(t),
  );
  it.each(['', '~', '@', 'PTRACE', '~@', '@a b', 'a;b', '~~ptrace', '@x\n'])('rejects %j', (t) =>
    expect(() => validateSyscallFilter(t)).toThrow(/^invalid --system-call-filter/),
  );
  it('splits comma lists', () => {
    expect(parseSyscallFilters(['~@debug,~@mount', 'ptrace'])).toEqual(['~@debug', '~@mount', 'ptrace']);
    expect(() => parseSyscallFilters([''])).toThrow(/invalid --system-call-filter ''/);
  });
  it.each([
    ['', "invalid --system-call-filter '': the filter cannot be empty"],
    ['~', "invalid --system-call-filter '~': the filter cannot be empty"],
    ['@', "invalid --system-call-filter '@': the group name cannot be empty"],
    ['~@', "invalid --system-call-filter '~@': the group name cannot be empty"],
  ])('empty filter %j says so (spec: "cannot be empty")', (t, msg) => {
    expect(() => validateSyscallFilter(t)).toThrow(msg);
    expect(() => parseSyscallFilters([t])).toThrow(/cannot be empty/);
  });
  it('an empty item in a comma list is an error, not dropped', () => {
    for (const v of ['~@debug,', ',ptrace', 'a,,b', ' , ']) {
      expect(() => parseSyscallFilters([v])).toThrow(/^invalid --system-call-filter '.*': cannot be empty$/);
    }
    expect(parseSyscallFilters([' ~@debug , ptrace '])).toEqual(['~@debug', 'ptrace']);
  });
});

describe('apparmor / log level / restart', () => {
  it('apparmor profile charset', () => {
    expect(validateApparmorProfile('sdme-default')).toBe('sdme-default');
    expect(validateApparmorProfile('a.b_c-1')).toBe('a.b_c-1');
    for (const bad of ['', 'a b', 'a/b', 'x\nAppArmorProfile=y', 'a%i']) {
      expect(() => validateApparmorProfile(bad)).toThrow(/invalid --apparmor-profile/);
    }
  });
  it('log levels', () => {
    for (const l of ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug']) expect(validateLogLevel(l)).toBe(l);
    for (const l of ['', 'Debug', 'warn', 'error', '7']) expect(() => validateLogLevel(l)).toThrow(/invalid --systemd-log-level/);
  });
  it.each([
    ['no', 'no'], ['Never', 'no'], ['never', 'no'],
    ['on-failure', 'on-failure'], ['OnFailure', 'on-failure'], ['onfailure', 'on-failure'],
  ])('restart %s -> %s', (i, o) => expect(normalizeRestartPolicy(i)).toBe(o));
  it('restart always is refused with the reason; others invalid', () => {
    expect(() => normalizeRestartPolicy('always')).toThrow(/not supported.*TerminateMachine.*on-failure/);
    expect(() => normalizeRestartPolicy('Always')).toThrow(/not supported/);
    expect(() => normalizeRestartPolicy('NO')).toThrow("invalid --restart 'NO': expected 'no' or 'on-failure'");
    expect(() => normalizeRestartPolicy('on-abort')).toThrow(/invalid --restart/);
  });
});

describe('binds', () => {
  it.each([
    ['/srv/a:/a', { host: '/srv/a', container: '/a', mode: 'rw' }],
    ['/srv/a:/a:ro', { host: '/srv/a', container: '/a', mode: 'ro' }],
    ['/srv/with space:/mnt/a', { host: '/srv/with space', container: '/mnt/a', mode: 'rw' }],
    ['/srv/t%3Ax:/data', { host: '/srv/t%3Ax', container: '/data', mode: 'rw' }],
    ['/srv/dol$HOME:/mnt/b', { host: '/srv/dol$HOME', container: '/mnt/b', mode: 'rw' }],
    ['/srv/q"x:/mnt/c', { host: '/srv/q"x', container: '/mnt/c', mode: 'rw' }],
    ['/srv/back\\slash:/mnt/d:ro', { host: '/srv/back\\slash', container: '/mnt/d', mode: 'ro' }],
  ])('parses %j', (spec, want) => {
    expect(parseBind(spec)).toEqual(want);
    expect(formatBind(parseBind(spec))).toBe(spec.endsWith(':ro') ? spec : `${spec}:rw`);
  });
  it.each([
    ['/srv/a', /expected HOST:CONTAINER/],
    [':/a', /both paths non-empty/],
    ['/a:', /both paths non-empty/],
    ['srv:/a', /host path must be absolute/],
    ['/a:b', /container path must be absolute/],
    ['/srv/../etc:/a', /host path must not contain '\.\.'/],
    ['/a:/b/../c', /container path must not contain '\.\.'/],
    ['/a|b:/c', /host path must not contain '\|'/],
    ['/a:/b:rw', /paths containing ':' are not supported/],
    ['/a:/b:c', /paths containing ':' are not supported/],
    ['/a\nb:/c', /control characters/],
  ])('rejects %j', (spec, re) => {
    expect(() => parseBind(spec)).toThrow(re);
    expect(() => parseBind(spec)).toThrow(/^invalid --bind '/);
  });
  it('a host path with a colon cannot be expressed: refused, never split differently', () => {
    // `/srv/a:b:/data` would otherwise bind /srv/a to "b:/data"
    expect(() => parseBind('/srv/a:b:/data')).toThrow(/invalid --bind/);
  });
});

describe('path length limits (ENAMETOOLONG before anything is written)', () => {
  const c255 = 'a'.repeat(255);
  const c256 = 'a'.repeat(256);
  // 16 components of 255 bytes + 16 slashes = 4096 bytes; 4095 is the most the kernel takes
  const deep = (n: number, last: string) => `${`/${c255}`.repeat(n)}/${last}`;
  it('a component of 255 bytes is fine, 256 is refused, counted in bytes (UTF-8)', () => {
    expect(pathLengthProblem(`/${c255}`)).toBeUndefined();
    expect(pathLengthProblem(`/${c256}`)).toBe(`a path component is longer than ${NAME_MAX} bytes`);
    expect(pathLengthProblem(`/${'é'.repeat(128)}`)).toMatch(/component is longer than 255 bytes/);
    expect(pathLengthProblem(`/${'é'.repeat(127)}`)).toBeUndefined();
  });
  it('a path of 4095 bytes is fine, 4096 is refused', () => {
    const p4095 = deep(15, 'a'.repeat(4095 - 15 * 256 - 1));
    expect(Buffer.byteLength(p4095)).toBe(PATH_MAX);
    expect(pathLengthProblem(p4095)).toBeUndefined();
    expect(pathLengthProblem(`${p4095}b`)).toBe(`path is longer than ${PATH_MAX} bytes`);
  });
  it('opaque dirs, both sides of a bind and masked services are checked', () => {
    expect(() => normalizeOpaqueDirs([`/${c256}`])).toThrow(/^invalid opaque dir '\/a{31}\.\.\.' \(257 bytes\): a path component is longer than 255 bytes$/);
    expect(() => parseBind(`/${c256}:/x`)).toThrow(/^invalid --bind .*host a path component is longer than 255 bytes$/);
    expect(() => parseBind(`/srv:/${c256}`)).toThrow(/container a path component is longer than 255 bytes/);
    expect(() => parseBind(`/srv:${deep(16, 'x')}`)).toThrow(/container path is longer than 4095 bytes/);
    expect(() => parseMaskedServices(`${'m'.repeat(300)}.service`)).toThrow(
      /^invalid masked service 'm{32}\.\.\.' \(308 bytes\): longer than 255 bytes$/,
    );
    expect(parseMaskedServices(`${'m'.repeat(247)}.service`)).toHaveLength(1);
  });
});

describe('env', () => {
  it.each(['A=1', '_X=', 'K_2=a=b', 'PATH=/usr/bin:/bin', 'V=$HOME %i'])('accepts %j', (e) => expect(parseEnv(e)).toBe(e));
  it.each([
    ['noequals', /expected KEY=VALUE/],
    ['=v', /KEY must not be empty/],
    ['1A=v', /must not start with a digit/],
    ['A-B=v', /only letters, digits and _/],
    ['A=a|b', /must not contain '\|'/],
    ['A=a\nb', /newlines/],
  ])('rejects %j', (e, re) => expect(() => parseEnv(e)).toThrow(re));
  it('names the flag', () => expect(() => parseEnv('x', '--oci-env')).toThrow(/^invalid --oci-env 'x'/));
});

describe('opaque dirs and masked services', () => {
  it('normalises trailing slashes and rejects duplicates', () => {
    expect(normalizeOpaqueDirs(['/etc/systemd/system/', '/var/log', '/a//b/'])).toEqual(['/etc/systemd/system', '/var/log', '/a/b']);
    expect(() => normalizeOpaqueDirs(['/var/log', '/var/log/'])).toThrow("duplicate opaque dir '/var/log'");
    expect(() => normalizeOpaqueDirs(['var/log'])).toThrow(/must be absolute/);
    expect(() => normalizeOpaqueDirs(['/var/../etc'])).toThrow(/'\.\.'/);
    expect(() => normalizeOpaqueDirs([''])).toThrow(/empty/);
    expect(() => normalizeOpaqueDirs(['/'])).toThrow(/cannot be opaque/);
  });
  it('masked services', () => {
    expect(parseMaskedServices(' a.service, ,b.service ')).toEqual(['a.service', 'b.service']);
    expect(parseMaskedServices('')).toEqual([]);
    expect(() => parseMaskedServices('../x.service')).toThrow(/invalid masked service/);
    expect(() => parseMaskedServices('a/b.service')).toThrow(/invalid masked service/);
  });
});

describe('bridge / zone names', () => {
  it('charset and length', () => {
    expect(validateBridgeName('br0')).toBe('br0');
    expect(validateBridgeName('a'.repeat(15))).toBe('a'.repeat(15));
    expect(() => validateBridgeName('a'.repeat(16))).toThrow(/at most 15/);
    expect(() => validateBridgeName('br 0')).toThrow(/invalid --network-bridge/);
    expect(() => validateBridgeName('')).toThrow(/invalid --network-bridge/);
    expect(validateZoneName('lab_1-x')).toBe('lab_1-x');
    expect(validateZoneName('a'.repeat(12))).toBe('a'.repeat(12));
    expect(() => validateZoneName('a'.repeat(13))).toThrow(/at most 12 characters \(bridge 'vz-a+' must fit 15\)/);
    expect(() => validateZoneName('lab/x')).toThrow(/invalid --network-zone/);
  });
});

describe('limits', () => {
  it('memory', () => {
    for (const v of ['512M', '2G', '1T', '1048576', '4K']) expect(validateMemory(v)).toBe(v);
    for (const v of ['2GB', '1.5G', '2g', '-1', '', 'G', '0', '0M', '99999999999999999999T']) {
      expect(() => validateMemory(v)).toThrow(/^invalid --memory/);
    }
  });
  it('memory is capped at 8191T (below 2^53 bytes: exact as a JS number)', () => {
    expect(validateMemory('8191T')).toBe('8191T');
    expect(MAX_MEMORY_BYTES).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    for (const v of ['8192T', '9007199254740992', '18446744073709551615', '16777216G']) {
      expect(() => validateMemory(v)).toThrow(`invalid --memory '${v}': too large (at most 8191T)`);
    }
  });
  it('cpus are capped at 1024 so CPUQuota is a plain integer percentage', () => {
    expect(validateCpus('1024')).toBe('1024');
    expect(cpuQuotaPercent('1024')).toBe(102400);
    for (const v of ['1024.01', '1025', '99999999999999999999', `1${'0'.repeat(400)}`]) {
      expect(() => validateCpus(v)).toThrow(/^invalid --cpus '[0-9.]+'( \(401 bytes\))?: at most 1024$/);
    }
    for (const v of ['0.01', '0.5', '3.', '1024']) expect(String(cpuQuotaPercent(validateCpus(v)))).toMatch(/^[1-9]\d*$/);
  });
  it('cpu weight is normalised (no leading zeros) and still range-checked', () => {
    expect(validateCpuWeight('00005')).toBe('5');
    expect(validateCpuWeight('010000')).toBe('10000');
    expect(() => validateCpuWeight('000')).toThrow(/^invalid --cpu-weight '000'/);
    expect(() => validateCpuWeight('010001')).toThrow(/^invalid --cpu-weight/);
  });
  it('cpus', () => {
    for (const v of ['0.5', '2', '1.25', '.5', '3.']) expect(validateCpus(v)).toBe(v);
    for (const v of ['0', '0.0', '-1', 'abc', '', 'inf', '1e3', '0.001']) expect(() => validateCpus(v)).toThrow(/^invalid --cpus/);
    expect(cpuQuotaPercent('0.5')).toBe(50);
    expect(cpuQuotaPercent('1.255')).toBe(125);
    expect(cpuQuotaPercent('0.015')).toBe(2);
  });
  it('cpu weight', () => {
    for (const v of ['1', '100', '10000']) expect(validateCpuWeight(v)).toBe(v);
    for (const v of ['0', '10001', '1.5', '', 'x', '-5']) expect(() => validateCpuWeight(v)).toThrow(/^invalid --cpu-weight/);
  });
  it('disk >= 16M', () => {
    expect(validateDisk('16M')).toBe('16M');
    expect(validateDisk('1G')).toBe('1G');
    expect(() => validateDisk('15M')).toThrow(/at least 16M/);
    expect(() => validateDisk('1.5G')).toThrow(/^invalid --disk/);
  });
});

describe('ports', () => {
  it.each([
    ['8080:80', '8080:80'],
    ['8080', '8080'],
    ['tcp:8080:80', 'tcp:8080:80'],
    ['udp:53', 'udp:53'],
    ['8080:80/udp', 'udp:8080:80'],
    ['8080:80/tcp', 'tcp:8080:80'],
    ['65535:1', '65535:1'],
  ])('%s -> %s', (i, o) => expect(normalizePort(i)).toBe(o));
  it.each(['8080:', ':80', '0:80', '65536:80', 'abc:80', '/http', 'sctp:80', 'tcp:80/udp', '1:2:3', '', '80/http', 'tcp:'])(
    'rejects %j',
    (p) => expect(() => parsePort(p)).toThrow(/^invalid --port/),
  );
  it.each([
    [['8080:80', '8080:80'], "invalid --port '8080:80': tcp host port 8080 is already forwarded by '8080:80'"],
    [['8080:80', 'tcp:8080:81'], "invalid --port 'tcp:8080:81': tcp host port 8080 is already forwarded by '8080:80'"],
    [['udp:53', '53:5353/udp'], "invalid --port '53:5353/udp': udp host port 53 is already forwarded by 'udp:53'"],
  ])('duplicate (protocol, host port) %j is refused, naming the port', (specs, msg) => {
    expect(() => assertUniquePorts(specs)).toThrow(msg);
  });
  it('the same host port on tcp and udp, or different host ports to one container port, are fine', () => {
    expect(() => assertUniquePorts(['53', 'udp:53', 'tcp:54:53', '55:53/udp'])).not.toThrow();
    expect(() => assertUniquePorts([])).not.toThrow();
  });
});

describe('inspectBindHosts (real files)', async () => {
  const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { inspectBindHosts } = await import('../../src/engine/security/bind-hosts.js');
  it('finds devices, accepts odd names, refuses missing paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdme-binds-'));
    try {
      const odd = join(dir, 'with space $HOME %i "q" back\\slash');
      mkdirSync(odd);
      expect(await inspectBindHosts([{ host: odd }, { host: '/dev/null' }])).toEqual(new Set(['/dev/null']));
      await expect(inspectBindHosts([{ host: join(dir, 'missing') }])).rejects.toThrow(/bind host path '.*missing' does not exist .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
