/**
 * Trying to break sdme with bad input, inside the sandbox host (real systemd):
 * every create flag with bad values, missing/ambiguous names, commands on
 * containers in the wrong state, malformed state files, rootfs in use, pods,
 * Ctrl+C during start and fs import, concurrent rm. The rule asserted: a
 * non-zero exit, a clear `Error: ...` line, no stack trace, and nothing
 * written (state, container dirs, locks, units, runtime dirs compared before
 * and after).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/native/run.js';
import { cachedBootableRootfs, fixtureMissingReason } from './fixtures.js';
import { DATADIR, SDME_BIN, cleanupContainers, inSandbox, sdme, uniqueName, waitFor, type SdmeResult } from './helpers.js';

const PREFIX = 'bi';
const P = uniqueName(PREFIX); // this run's names: P-one, P-two, ...
const UNITS = '/etc/systemd/system';

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');
const noStack = (r: SdmeResult) => expect(lines(r.stderr).filter((l) => /^\s+at /.test(l)), r.stderr).toEqual([]);

/** Non-zero exit, exactly one stderr line `Error: ...` matching re, no stack trace. */
function expectOneLineError(r: SdmeResult, re: RegExp): void {
  noStack(r);
  expect(r.code, r.stderr).not.toBe(0);
  const err = lines(r.stderr);
  expect(err, r.stderr).toHaveLength(1);
  expect(err[0]).toMatch(/^Error: /);
  expect(err[0]).toMatch(re);
}

/** Non-zero exit, no stack trace, last line `Error: ...`, some line matches re (batch commands print progress first). */
function expectCleanError(r: SdmeResult, re: RegExp): void {
  noStack(r);
  expect(r.code, r.stderr).not.toBe(0);
  const err = lines(r.stderr);
  expect(err.at(-1) ?? '', r.stderr).toMatch(/^Error: /);
  expect(err.some((l) => re.test(l)), r.stderr).toBe(true);
}

function walk(dir: string, rel: string, out: string[], skip: (rel: string) => boolean, withTimes: boolean): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const n of names) {
    const r = `${rel}${n}`;
    if (skip(r)) continue;
    const st = statSync(join(dir, n), { throwIfNoEntry: false });
    if (!st) continue;
    out.push(withTimes && st.isFile() ? `${r}@${st.mtimeMs}` : r);
    if (st.isDirectory()) walk(join(dir, n), `${r}/`, out, skip, withTimes);
  }
}

/**
 * What sdme could write: the datadir (container trees only at their top),
 * lock files (optional: commands on existing containers take their locks),
 * sdme units and drop-ins, /run/sdme. Files carry their mtime.
 */
function footprint(opts: { locks?: boolean } = {}): string[] {
  const out: string[] = [];
  walk(
    DATADIR,
    'D/',
    out,
    (r) => /^D\/containers\/[^/]+\/./.test(r) || /^D\/fs\/[^/]+\/./.test(r) || (!opts.locks && r.startsWith('D/locks')),
    true,
  );
  walk(UNITS, 'U/', out, (r) => !r.startsWith('U/sdme') && !/^U\/[^/]+\.wants/.test(r), true);
  walk('/run/sdme', 'R/', out, () => false, false);
  return out.filter((l) => !/^U\/[^/]+\.wants/.test(l) || l.includes('sdme'));
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function psJson(): Promise<{ name: string; status: string; health: string }[]> {
  const r = await sdme(['ps', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { name: string; status: string; health: string }[];
}

/** Spawns the CLI, sends SIGINT delayMs after stderr first contains marker; resolves with the outcome. */
function interruptAfter(args: string[], marker: string, delayMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SDME_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes(marker)) {
        sent = true;
        setTimeout(() => p.kill('SIGINT'), delayMs);
      }
    });
    p.stdout.resume();
    const killer = setTimeout(() => p.kill('SIGKILL'), 240_000);
    p.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    });
  });
}

let scratch: string;
const extraCleanup: string[] = [];

beforeAll(() => {
  inSandbox();
  scratch = mkdtempSync(join(tmpdir(), 'sdme-bi-'));
});

afterAll(async () => {
  for (const p of extraCleanup) rmSync(p, { recursive: true, force: true });
  const ls = (d: string) => (existsSync(d) ? readdirSync(d) : []);
  expect(await cleanupContainers(PREFIX)).toEqual([]);
  for (const n of ls(join(DATADIR, 'fs')).filter((n) => n.startsWith(P))) await sdme(['fs', 'rm', '-f', n]);
  for (const n of ls(join(DATADIR, 'pods')).filter((n) => n.startsWith(P))) await sdme(['pod', 'rm', '-f', n]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('create: every bad flag value is one line, before anything is written', () => {
  const long300 = 'm'.repeat(300);
  // [flags, expected message]; each gets its own --name P-cN
  const cases: [string[], RegExp][] = [
    [['--name', ''.padEnd(65, 'a')], /at most 64/],
    [['--name', 'Abc'], /invalid container name 'Abc'/],
    [['--name', 'abc-'], /must not end with '-'/],
    [['--name', '..'], /invalid container name/],
    [['--name', 'a/b'], /invalid container name/],
    [['--name', 'héllo'], /invalid container name/],
    [['--name', '1abc'], /invalid container name/],
    [['--memory', '1.5G'], /--memory/],
    [['--memory', '0'], /--memory/],
    [['--memory=-1'], /--memory/],
    [['--memory', '10Q'], /--memory/],
    [['--memory', '99999999999999999999999T'], /--memory/],
    [['--cpus', '0'], /--cpus/],
    [['--cpus=-1'], /--cpus/],
    [['--cpus', 'abc'], /--cpus/],
    [['--cpus', '1e309'], /--cpus/],
    [['--cpu-weight', '0'], /--cpu-weight/],
    [['--cpu-weight', '10001'], /--cpu-weight/],
    [['--cpu-weight', '1.5'], /--cpu-weight/],
    [['--network-veth', '-p', '0:80'], /--port/],
    [['--network-veth', '-p', '65536:80'], /--port/],
    [['--network-veth', '-p', 'tcp:80:'], /--port/],
    [['--network-veth', '-p', 'abc'], /--port/],
    [['--network-veth', '-p', 'sctp:1:2'], /--port/],
    [['-p', '8080'], /--port requires --network-veth/],
    [['-b', 'rel:/x'], /--bind.*absolute/],
    [['-b', '/nonexistent-sdme-bi:/x'], /does not exist/],
    [['-b', '/tmp/../etc:/x'], /--bind.*'\.\.'/],
    [['-b', '/tmp|x:/x'], /--bind.*'\|'/],
    [['-b', '/tmp:/x:y'], /--bind/],
    [['-b', ':ro'], /--bind/],
    [['-b', '/tmp'], /--bind/],
    [['-e', '1X=2'], /--env/],
    [['-e', '=v'], /--env/],
    [['-e', 'K'], /--env/],
    [['-e', 'K=a|b'], /--env/],
    [['--drop-capability', 'CAP_BOGUS'], /unknown capability 'CAP_BOGUS'/],
    [['--drop-capability', 'net_raw', '--capability', 'CAP_NET_RAW'], /appears in both/],
    [['--system-call-filter', '~'], /--system-call-filter/],
    [['--system-call-filter', '@'], /--system-call-filter/],
    [['--system-call-filter', 'Bad'], /--system-call-filter/],
    [['--system-call-filter', '@sys;rm'], /--system-call-filter/],
    [['--apparmor-profile', 'foo/bar'], /--apparmor-profile/],
    [['--network-zone', 'abcdefghijklmnopqrst'], /--network-zone/],
    [['--network-bridge', 'a b'], /--network-bridge/],
    [['--restart', 'always'], /--restart always is not supported/],
    [['--restart', 'sometimes'], /--restart/],
    [['-o', 'relative'], /opaque dir 'relative'/],
    [['-o', '/a', '-o', '/a'], /duplicate opaque dir/],
    [['-o', '/'], /opaque/],
    [['--masked-services', '../x'], /masked service/],
    [['--masked-services', 'a/b'], /masked service/],
    [['--pod', 'nonexistent'], /pod 'nonexistent' not found/],
    [['--pod', 'BadPod'], /invalid pod name/],
    [['-r', 'Bad/Name'], /invalid rootfs name/],
    [['--userns-nested', 'x'], /--userns-nested/],
    [['-t', '5'], /only valid with --started/],
    [['--started', '-t', '0'], /invalid --timeout/],
    [['--disk', '1M'], /--disk/],
    // defects (accepted or crashing today):
    [['--system-call-filter', ''], /--system-call-filter/], // spec: empty => error; commander's csv collector drops it
    [['--network-veth', '-p', '8080:80', '-p', '8080:80'], /--port/], // nspawn refuses at start: "Duplicate port specification"
    [['--cpus', '99999999999999999999'], /--cpus/], // renders CPUQuota=1e+22%, which systemd ignores (no limit)
    [['-o', `/${long300}`], /opaque/], // ENAMETOOLONG stack trace from create.ts
    [['--masked-services', `${long300}.service`], /masked service/], // ENAMETOOLONG stack trace from create.ts
  ];
  let i = 0;
  for (const [flags, re] of cases) {
    const name = `${P}-c${++i}`;
    it(`create ${flags.map((f) => (f.length > 40 ? `${f.slice(0, 12)}...(${f.length})` : JSON.stringify(f))).join(' ')}`, async () => {
      const before = footprint({ locks: true });
      const args = flags.includes('--name') ? ['create', ...flags] : ['create', '--name', name, ...flags];
      const r = await sdme(args);
      expect.soft(footprint({ locks: true }), 'nothing written').toEqual(before);
      expectOneLineError(r, re);
      expect(r.stdout).toBe('');
    });
  }

  it('create -r with a rootfs that does not exist leaves no lock file behind', async () => {
    const before = footprint({ locks: true });
    const r = await sdme(['create', '-r', 'nonexistent']);
    expect.soft(footprint({ locks: true }), 'nothing written').toEqual(before);
    expectOneLineError(r, /root filesystem 'nonexistent' not found/);
  });

  it('commander choices are one-line parse errors', async () => {
    for (const [flag, v] of [['--systemd-log-level', 'loud'], ['--storage', 'zfs']]) {
      const r = await sdme(['create', flag!, v!]);
      noStack(r);
      expect(r.code).toBe(1);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(`'${v}' is invalid`);
    }
  });

  it('new with a bad name or timeout writes nothing', async () => {
    const before = footprint({ locks: true });
    expectOneLineError(await sdme(['new', '--name', 'Bad', '--', 'true']), /invalid container name 'Bad'/);
    expectOneLineError(await sdme(['new', '-t', 'abc', '--', 'true']), /invalid --timeout/);
    expect(footprint({ locks: true })).toEqual(before);
  });
});

describe('names: missing and ambiguous, containers in the wrong state', () => {
  const one = `${P}-one`;
  const two = `${P}-two`;
  beforeAll(async () => {
    for (const n of [one, two]) expect((await sdme(['create', '--name', n])).code).toBe(0);
  });

  const missing = `${P}-nope`;
  const batch: [string[], RegExp][] = [
    [['start', missing], /no container found matching/],
    [['stop', missing], /no container found matching/],
    [['restart', missing], /no container found matching/],
    [['rm', missing], /no container found matching/],
    [['enable', missing], /no container found matching/],
    [['disable', missing], /no container found matching/],
    [['start', P], /ambiguous name/],
    [['stop', P], /ambiguous name/],
    [['rm', P], /ambiguous name/],
    [['start', 'Bad'], /no container found matching 'Bad'/],
  ];
  for (const [args, re] of batch) {
    it(`${args[0]} ${args[1] === P ? 'PREFIX (ambiguous)' : args[1]}`, async () => {
      const before = footprint();
      const r = await sdme(args);
      expect.soft(footprint(), 'nothing written').toEqual(before);
      expectCleanError(r, re);
      expect(r.stdout).toBe('');
    });
  }

  const single: [string[], RegExp][] = [
    [['exec', missing, 'true'], /no container found matching/],
    [['logs', missing], /no container found matching/],
    [['join', missing, '--', 'true'], /no container found matching/],
    [['inspect', missing], /no container found matching/],
    [['set', missing, '--memory', '1G'], /no container found matching/],
    [['exec', P, 'true'], /ambiguous name/],
    [['logs', P], /ambiguous name/],
    [['exec', two, 'true'], /not running/],
    [['join', two, '--', 'true'], /not running.*--start/],
    [['inspect', two], /not running/],
    [['set', two, '--memory', '1.5G'], /--memory/],
    [['set', two, '--cpus', '0'], /--cpus/],
    [['set', two, '--cpu-weight', '10001'], /--cpu-weight/],
  ];
  for (const [args, re] of single) {
    it(`${args.join(' ').replace(P, 'PREFIX')}`, async () => {
      const before = footprint();
      const r = await sdme(args);
      expect.soft(footprint(), 'nothing written').toEqual(before);
      expectOneLineError(r, re);
    });
  }

  it('stop on a stopped container fails cleanly and changes nothing', async () => {
    const before = footprint();
    expectCleanError(await sdme(['stop', two]), /not running/);
    expect(footprint()).toEqual(before);
  });

  it('batch commands without names, or with names and --all', async () => {
    for (const c of ['start', 'stop', 'rm']) {
      expectOneLineError(await sdme([c]), /no container given/);
      expectOneLineError(await sdme([c, '-a', one]), /not both/);
    }
  });

  it('start -t with an absurd value is refused and the shared sdme@.service is not rewritten', async () => {
    const tpl = `${UNITS}/sdme@.service`;
    const before = existsSync(tpl) ? sha(tpl) : '';
    const r = await sdme(['start', '-t', '99999999999999999999999', two]);
    // whatever happened, leave it stopped (today it boots, with TimeoutStartSec=1e+23s in the template)
    await run('systemctl', ['stop', `sdme@${two}.service`], { timeoutMs: 60_000 });
    expect.soft(existsSync(tpl) ? readFileSync(tpl, 'utf8') : '').not.toMatch(/TimeoutStartSec=\d+(\.\d+)?e\+/);
    expect.soft(existsSync(tpl) ? sha(tpl) : '', 'template unchanged').toBe(before);
    expectOneLineError(r, /invalid --timeout/);
  });

  describe('on a running container', () => {
    beforeAll(async () => {
      const r = await sdme(['start', one]);
      expect(r.code, r.stderr).toBe(0);
    });

    it('ps --json parses and shows it running', async () => {
      const rows = await psJson();
      expect(rows.find((r) => r.name === one)?.status).toBe('running');
      expect(rows.every((r) => typeof r.name === 'string' && typeof r.health === 'string')).toBe(true);
    });

    it('exec --user with a user that does not exist says so (today: exit 217, silent)', async () => {
      const r = await sdme(['exec', '--user', 'nosuchuser', one, 'id']);
      noStack(r);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/nosuchuser/);
    });

    it('exec of a command that does not exist says so (today: exit 203, silent)', async () => {
      const r = await sdme(['exec', one, '/nonexistent/cmd']);
      noStack(r);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/\/nonexistent\/cmd/);
    });

    it('two concurrent rm of the running container: it is gone, no stack trace, at most one clean refusal', async () => {
      const [a, b] = await Promise.all([sdme(['rm', one]), sdme(['rm', one])]);
      for (const r of [a, b]) noStack(r);
      expect([a.code, b.code]).toContain(0);
      for (const r of [a, b]) if (r.code !== 0) expect(lines(r.stderr).at(-1)).toMatch(/^Error: /);
      expect(existsSync(join(DATADIR, 'state', one))).toBe(false);
      expect(existsSync(join(DATADIR, 'containers', one))).toBe(false);
      expect(existsSync(`${UNITS}/sdme@${one}.service.d`)).toBe(false);
      const u = await run('systemctl', ['is-active', `sdme@${one}.service`]);
      expect(u.stdout.trim()).not.toBe('active');
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`/containers/${one}/`);
    });
  });
});

describe('malformed state files', () => {
  const good = `${P}-good`;
  const garbage = `${P}-garbage`;
  const binary = `${P}-binary`;
  const trailing = `${P}-trail-`; // valid for upstream sdme 0.18, refused by our create
  beforeAll(async () => {
    expect((await sdme(['create', '--name', good])).code).toBe(0);
    writeFileSync(join(DATADIR, 'state', garbage), 'garbage line without equals\n', { mode: 0o600 });
    writeFileSync(join(DATADIR, 'state', binary), Buffer.from([0, 1, 2, 0x0a, 0xff]), { mode: 0o600 });
    const text = readFileSync(join(DATADIR, 'state', good), 'utf8').replace(`NAME=${good}`, `NAME=${trailing}`);
    writeFileSync(join(DATADIR, 'state', trailing), text, { mode: 0o600 });
    mkdirSync(join(DATADIR, 'containers', trailing, 'upper'), { recursive: true });
    mkdirSync(join(DATADIR, 'containers', trailing, 'work'), { recursive: true });
    mkdirSync(join(DATADIR, 'containers', trailing, 'merged'), { recursive: true });
    extraCleanup.push(join(DATADIR, 'state', trailing), join(DATADIR, 'containers', trailing));
  });

  it('ps still lists the good one and shows a problem for the unreadable ones', async () => {
    const rows = await psJson();
    expect(rows.find((r) => r.name === good)?.health).toBe('ok');
    for (const n of [garbage, binary]) {
      const row = rows.find((r) => r.name === n);
      expect(row, n).toBeDefined();
      expect(row?.health).not.toBe('ok');
    }
    const table = await sdme(['ps']);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(garbage);
  });

  it('start of an unreadable one fails cleanly; rm removes it', async () => {
    expectCleanError(await sdme(['start', garbage]), /garbage/);
    for (const n of [garbage, binary]) {
      const r = await sdme(['rm', n]);
      noStack(r);
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(DATADIR, 'state', n))).toBe(false);
    }
  });

  it("a container named with a trailing '-' (made by upstream sdme 0.18) is listed by ps, not hidden", async () => {
    const rows = await psJson();
    expect(rows.map((r) => r.name)).toContain(trailing);
  });

  it("a container named with a trailing '-' can be removed with rm", async () => {
    const r = await sdme(['rm', trailing]);
    noStack(r);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(DATADIR, 'state', trailing))).toBe(false);
    expect(existsSync(join(DATADIR, 'containers', trailing))).toBe(false);
  });
});

describe('root filesystems in use, and Ctrl+C', () => {
  const fsName = `${P}-fs`;
  const user = `${P}-fsuser`;
  let src: string;
  beforeAll(async () => {
    src = join(scratch, 'rootfs');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/os-release'), 'ID=debian\nPRETTY_NAME="bad input test"\n');
    const imp = await sdme(['fs', 'import', src, '--name', fsName, '-f']);
    expect(imp.code, imp.stderr).toBe(0);
    const c = await sdme(['create', '--name', user, '-r', fsName]);
    expect(c.code, c.stderr).toBe(0);
  });

  it('fs rm of a rootfs in use is refused and the rootfs stays', async () => {
    const before = footprint();
    expectCleanError(await sdme(['fs', 'rm', fsName]), /in use|used by/);
    expect(existsSync(join(DATADIR, 'fs', fsName, 'etc/os-release'))).toBe(true);
    expect(footprint()).toEqual(before);
  });

  it('fs import -f over a rootfs in use is refused and the old rootfs stays', async () => {
    writeFileSync(join(src, 'etc/marker'), 'new\n');
    const r = await sdme(['fs', 'import', src, '--name', fsName, '-f']);
    expectCleanError(r, /in use|used by/);
    expect(existsSync(join(DATADIR, 'fs', fsName, 'etc/marker'))).toBe(false);
    expect(readdirSync(join(DATADIR, 'fs')).filter((n) => n.startsWith(`.${fsName}.`) && n.includes('txn'))).toEqual([]);
  });

  it('fs import of an existing name without -f is refused', async () => {
    expectCleanError(await sdme(['fs', 'import', src, '--name', fsName]), /exists/);
  });

  it('Ctrl+C during start: exit 130, "interrupted, exiting", no stack trace, container intact', async () => {
    const name = `${P}-sig`;
    expect((await sdme(['create', '--name', name])).code).toBe(0);
    const r = await interruptAfter(['start', name], `starting '${name}'`, 150);
    expect(r.code, r.stderr).toBe(130);
    expect(lines(r.stderr).at(-1)).toBe('interrupted, exiting');
    expect(lines(r.stderr).filter((l) => /^\s+at /.test(l))).toEqual([]);
    // nothing half-written: the state file is whole and no temp file of it is left
    expect(readdirSync(join(DATADIR, 'state')).filter((n) => n.startsWith(`.${name}.`))).toEqual([]);
    expect(readFileSync(join(DATADIR, 'state', name), 'utf8')).toMatch(new RegExp(`^NAME=${name}$`, 'm'));
    // Two clean outcomes, depending on where the signal lands: before StartUnit the
    // container stays stopped; after it the unit is queued and the boot goes on after
    // the CLI exits. Wait (bounded) for a settled state instead of reading mid-boot.
    let row: { name: string; status: string; health: string } | undefined;
    await waitFor(async () => {
      row = (await psJson()).find((x) => x.name === name);
      return (row?.status === 'running' && row.health === 'ok') || row?.status === 'stopped';
    }, 60_000, 500).catch(() => undefined);
    expect(['running', 'stopped']).toContain(row?.status);
    expect(row?.health).toBe('ok');
    // either way the container still starts cleanly afterwards
    expect((await sdme(['start', name], { timeoutMs: 180_000 })).code).toBe(0);
  });

  it('Ctrl+C during fs import: exit 130, no rootfs and no staging left', async () => {
    const tarball = cachedBootableRootfs();
    expect(tarball, fixtureMissingReason()).toBeDefined();
    const name = `${P}-intr`;
    const r = await interruptAfter(['fs', 'import', tarball!, '--name', name], 'extracting', 400);
    expect(r.code, r.stderr).toBe(130);
    expect(lines(r.stderr).at(-1)).toBe('interrupted, exiting');
    expect(lines(r.stderr).filter((l) => /^\s+at /.test(l))).toEqual([]);
    expect(readdirSync(join(DATADIR, 'fs')).filter((n) => n.includes(name))).toEqual([]);
  });
});

describe('pods', () => {
  const pod = `${P}-pod`;
  beforeAll(async () => {
    const r = await sdme(['pod', 'new', pod]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('pod new of an existing pod is refused, nothing changes', async () => {
    const before = footprint();
    expectCleanError(await sdme(['pod', 'new', pod]), /already exists/);
    expect(footprint()).toEqual(before);
  });

  const cases: [string[], RegExp][] = [
    [['pod', 'net', 'attach', pod, 'bogus'], /invalid network mode 'bogus'/],
    [['pod', 'net', 'attach', pod, 'zone'], /zone name/],
    [['pod', 'net', 'attach', pod, 'zone', 'a b'], /zone name/],
    [['pod', 'net', 'attach', pod, 'zone', 'abcdefghijklmnopqrst'], /too long/],
    [['pod', 'net', 'attach', `${P}-nopod`, 'veth'], /not found/],
    [['pod', 'net', 'detach', pod], /not attached/],
    [['pod', 'net', 'detach', `${P}-nopod`], /not found/],
  ];
  for (const [args, re] of cases) {
    it(args.join(' ').replaceAll(P, 'PREFIX'), async () => {
      const before = footprint();
      const r = await sdme(args);
      expect.soft(footprint(), 'nothing written').toEqual(before);
      expectOneLineError(r, re);
    });
  }

  it('pod rm of a missing pod; pod new --attach zone without --zone', async () => {
    expectCleanError(await sdme(['pod', 'rm', `${P}-nopod`]), /not found/);
    const before = footprint();
    expectCleanError(await sdme(['pod', 'new', `${P}-pod3`, '--attach', 'zone']), /--zone/);
    expect(footprint()).toEqual(before);
  });

  it('pod rm removes it', async () => {
    const r = await sdme(['pod', 'rm', pod]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(DATADIR, 'pods', pod))).toBe(false);
  });
});
