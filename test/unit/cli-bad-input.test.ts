/**
 * Bad input to the real CLI (`node bin/sdme.js`, built dist) where the check
 * happens before any D-Bus call: config, fs import/rm, pod name checks,
 * timeouts, exclusive flags, argument parsing, non-root. Each case runs with a
 * temp `--config` whose datadir is a temp dir and asserts the team rule: a
 * non-zero exit, one `Error: ...` line (batch commands may print their
 * progress line first), no stack trace, and nothing written.
 * Needs root (sdme refuses other users); no systemd.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/sdme.js', import.meta.url));

interface Res {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root: string;
let conf: string;
let datadir: string;

/** Runs the built CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
function sdme(args: readonly string[], opts: { config?: string | null; cwd?: string; pre?: string[] } = {}): Promise<Res> {
  const cfg = opts.config === undefined ? conf : opts.config;
  const argv = [...(opts.pre ?? []), process.execPath, BIN, ...(cfg === null ? [] : ['--config', cfg]), ...args];
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? root, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let seq = 0;
/** A config file with a datadir of its own (for cases that compare the datadir before and after). */
function freshConf(): { conf: string; datadir: string } {
  const dir = join(root, `own-${++seq}`);
  mkdirSync(dir);
  const c = join(dir, 'sdme.conf');
  writeFileSync(c, `datadir = "${join(dir, 'data')}"\n`, { mode: 0o600 });
  return { conf: c, datadir: join(dir, 'data') };
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

/** Non-zero exit, exactly one stderr line `Error: ...` matching re, no stack trace. */
function expectOneLineError(r: Res, re: RegExp): void {
  const err = lines(r.stderr);
  expect(err.filter((l) => /^\s+at /.test(l)), 'stack trace lines').toEqual([]);
  expect(r.code, r.stderr).not.toBe(0);
  expect(err, r.stderr).toHaveLength(1);
  expect(err[0]).toMatch(/^Error: /);
  expect(err[0]).toMatch(re);
}

/** Non-zero exit, no stack trace, the last stderr line is `Error: ...`, some line matches re (batch/progress commands). */
function expectCleanError(r: Res, re: RegExp): void {
  const err = lines(r.stderr);
  expect(err.filter((l) => /^\s+at /.test(l)), 'stack trace lines').toEqual([]);
  expect(r.code, r.stderr).not.toBe(0);
  expect(err.at(-1) ?? '', r.stderr).toMatch(/^Error: /);
  expect(err.some((l) => re.test(l)), r.stderr).toBe(true);
}

/** commander's own parse errors are `error: ...` (lower case); one line, exit 1. */
function expectParseError(r: Res, re: RegExp): void {
  const err = lines(r.stderr);
  expect(r.code, r.stderr).toBe(1);
  expect(err.filter((l) => /^\s+at /.test(l))).toEqual([]);
  expect(err[0] ?? '').toMatch(/^(Error|error): /);
  expect(r.stderr).toMatch(re);
}

/** Every path under dir (relative), sorted. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(d, n);
      out.push(`${rel}${n}`);
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p, `${rel}${n}/`);
    }
  };
  walk(dir, '');
  return out;
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sdme-badinput-'));
  datadir = join(root, 'data');
  conf = join(root, 'sdme.conf');
  writeFileSync(conf, `datadir = "${datadir}"\n`, { mode: 0o600 });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe.concurrent('config set: bad keys and values leave the file untouched', () => {
  const cases: [string, string, RegExp][] = [
    ['bogus', '1', /unknown config key 'bogus'/],
    ['datadir', 'rel/dir', /datadir.*absolute/],
    ['datadir', '', /datadir.*absolute/],
    ['boot_timeout', '0', /boot_timeout/],
    ['boot_timeout', '-5', /boot_timeout/],
    ['boot_timeout', 'abc', /boot_timeout/],
    ['boot_timeout', '1.5', /boot_timeout/],
    ['interactive', 'maybe', /interactive.*yes or no/],
    ['tasks_max', '99999999999999999999999', /tasks_max/],
    ['max_download_size', '1.5G', /max_download_size/],
    ['default_output_format', 'xml', /default_output_format/],
    ['host_rootfs_opaque_dirs', 'rel', /host_rootfs_opaque_dirs/],
    ['hardened_drop_caps', 'CAP_BOGUS', /unknown capability/],
    ['default_base_fs', 'Bad', /default_base_fs/],
    ['default_create_masked_services', '../x', /default_create_masked_services/],
    ['docker_token', 'a\nb', /newline/],
    ['oci_cache_dir', 'rel', /oci_cache_dir/],
    // defects: accepted today
    ['datadir', '/', /datadir/], // sdme would make state/, containers/, fs/ at the host's root
    ['datadir', '/tmp/../etc', /datadir/], // '..' component
    ['boot_timeout', '99999999999', /boot_timeout/], // no timer waits that long (setTimeout max ~24.8 days)
  ];
  for (const [key, value, re] of cases) {
    it(`config set ${key} ${JSON.stringify(value)} is refused`, async () => {
      const before = sha(conf);
      expectOneLineError(await sdme(['config', 'set', key, value]), re);
      expect(sha(conf)).toBe(before);
    });
  }

  it('config set with --config in a missing directory: one line, no stack trace, nothing created', async () => {
    const missing = join(root, 'no-such-dir', 'sdme.conf');
    expectOneLineError(await sdme(['config', 'set', 'boot_timeout', '5'], { config: missing }), /no-such-dir/);
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });

  it('missing argument is a parse error', async () => {
    expectParseError(await sdme(['config', 'set', 'boot_timeout']), /missing required argument 'value'/);
  });
});

describe.concurrent('--config pointing at a bad file', () => {
  it('malformed TOML: ps, config get and config set fail with one line; the file is untouched', async () => {
    const bad = join(root, 'bad.toml');
    writeFileSync(bad, 'datadir = "/tmp/x\nboot_timeout = \n');
    const before = sha(bad);
    for (const args of [['ps'], ['config', 'get'], ['config', 'set', 'boot_timeout', '5']]) {
      expectOneLineError(await sdme(args, { config: bad }), /failed to parse .*bad\.toml/);
    }
    expect(sha(bad)).toBe(before);
  });

  const typed: [string, string, RegExp][] = [
    ['t1.toml', 'boot_timeout = "abc"\n', /boot_timeout/],
    ['t2.toml', 'boot_timeout = 0\n', /boot_timeout/],
    ['t3.toml', 'datadir = 5\n', /datadir/],
  ];
  for (const [file, text, re] of typed) {
    it(`TOML ${JSON.stringify(text.trim())} is a one-line error`, async () => {
      const p = join(root, file);
      writeFileSync(p, text);
      expectOneLineError(await sdme(['ps'], { config: p }), re);
    });
  }

  it('a directory as --config is a one-line error', async () => {
    expectOneLineError(await sdme(['ps'], { config: root }), /failed to read/);
  });

  it('--config "" is refused rather than silently reading /etc/sdme.conf', async () => {
    expectOneLineError(await sdme(['ps'], { config: '' }), /config/);
  });

  it('a relative datadir in the TOML is refused; nothing is written under the working directory', async () => {
    const cwd = join(root, 'cwd');
    mkdirSync(cwd, { recursive: true });
    const p = join(root, 'rel.toml');
    writeFileSync(p, 'datadir = "relative/x"\n');
    const src = join(root, 'relsrc');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/os-release'), 'ID=debian\n');
    expectOneLineError(await sdme(['ps'], { config: p, cwd }), /datadir/);
    expectCleanError(await sdme(['fs', 'import', src, '--name', 'relt', '-f'], { config: p, cwd }), /datadir/);
    expect(tree(cwd)).toEqual([]);
  });
});

describe.concurrent('fs import: bad sources fail cleanly and leave no rootfs or staging', () => {
  let files: string;
  beforeAll(() => {
    files = join(root, 'files');
    mkdirSync(files, { recursive: true });
    writeFileSync(join(files, 'text.txt'), 'hello\n');
    writeFileSync(join(files, 'empty.tar'), '');
    // a tar header whose size field is base-256 garbage
    const b256 = Buffer.alloc(2048, 0);
    b256.write('file', 0);
    b256[124] = 0x80;
    b256[125] = 0xff;
    writeFileSync(join(files, 'b256.tar'), b256);
    const good = tarOf([['etc/os-release', 'ID=debian\n']]);
    writeFileSync(join(files, 'trunc.tar.gz'), gzipSync(good).subarray(0, 60));
    writeFileSync(join(files, 'escape.tar'), tarOf([['etc/os-release', 'ID=debian\n'], ['../evil-escape', 'x']]));
  });

  const cases: [string, string[], RegExp][] = [
    ['missing path', ['/nonexistent/sdme-x', '--name', 'a'], /does not exist/],
    ['character device', ['/dev/null', '--name', 'devnull'], /neither a directory nor a regular file/],
    ['text file', ['FILES/text.txt', '--name', 'txt'], /tar/],
    ['empty file', ['FILES/empty.tar', '--name', 'empty'], /tar/],
    ['truncated .tar.gz', ['FILES/trunc.tar.gz', '--name', 'trunc'], /gzip|truncated|unexpected end/],
    ['archive with ../ entries', ['FILES/escape.tar', '--name', 'escape'], /\.\./],
    ['invalid --name', ['FILES/text.txt', '--name', 'Bad'], /invalid rootfs name 'Bad'/],
    // defect: tar's own decode error escapes with a stack trace
    ['tar header with base-256 garbage', ['FILES/b256.tar', '--name', 'junk'], /tar/],
  ];
  for (const [what, args, re] of cases) {
    it(`fs import: ${what}`, async () => {
      const own = freshConf();
      const r = await sdme(['fs', 'import', ...args.map((a) => a.replace('FILES', files))], { config: own.conf });
      expectCleanError(r, re);
      expect(tree(join(own.datadir, 'fs'))).toEqual([]);
      expect(existsSync(join(own.datadir, 'evil-escape')) || existsSync(join(files, 'evil-escape'))).toBe(false);
    });
  }

  it('a source directory that contains the datadir is refused up front (no endless self-copy, no stack trace)', async () => {
    const src = join(root, 'selfsrc');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/os-release'), 'ID=debian\n');
    const selfConf = join(root, 'self.toml');
    writeFileSync(selfConf, `datadir = "${join(src, 'data')}"\n`);
    const r = await sdme(['fs', 'import', src, '--name', 'selfcopy', '-f'], { config: selfConf });
    expectCleanError(r, /data/);
    expect(r.stderr.length).toBeLessThan(1000);
    expect(tree(join(src, 'data', 'fs'))).toEqual([]);
  });

  it('fs rm of a missing rootfs leaves the datadir as it was', async () => {
    const own = freshConf();
    mkdirSync(own.datadir);
    const before = tree(own.datadir);
    expectCleanError(await sdme(['fs', 'rm', 'nope'], { config: own.conf }), /root filesystem 'nope' not found/);
    expect(tree(own.datadir)).toEqual(before);
  });

  it('fs rm with an invalid name, and with no name', async () => {
    expectCleanError(await sdme(['fs', 'rm', 'Bad']), /invalid rootfs name 'Bad'/);
    expectOneLineError(await sdme(['fs', 'rm']), /no root filesystem given/);
  });
});

describe.concurrent('pods: name checks before anything is written', () => {
  for (const name of ['Bad', '', 'a-', 'p'.repeat(65), '../x']) {
    it(`pod new ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}...(${name.length})` : name)}`, async () => {
      const own = freshConf();
      mkdirSync(own.datadir);
      expectCleanError(await sdme(['pod', 'new', name], { config: own.conf }), /invalid pod name/);
      expect(tree(own.datadir)).toEqual([]);
    });
  }
  it('pod new --attach with a bad mode is a parse error', async () => {
    expectParseError(await sdme(['pod', 'new', 'bi-pod', '--attach', 'bogus']), /bogus/);
  });
  it('pod rm of a missing or invalid pod', async () => {
    expectCleanError(await sdme(['pod', 'rm', 'nope']), /pod 'nope' not found/);
    expectCleanError(await sdme(['pod', 'rm', 'Bad']), /invalid pod name 'Bad'/);
    expectOneLineError(await sdme(['pod', 'rm']), /no pod given/);
  });
  it('pod net attach with a bad mode', async () => {
    expectOneLineError(await sdme(['pod', 'net', 'attach', 'nope', 'bogus']), /invalid network mode 'bogus'/);
  });
});

describe.concurrent('flags checked before any D-Bus call', () => {
  // the last one is a defect: accepted, then written into the shared sdme@.service as TimeoutStartSec=1e+23s
  for (const t of ['0', '-1', 'abc', '1.5', '99999999999999999999999']) {
    it(`start -t ${t} is refused`, async () => expectOneLineError(await sdme(['start', '-t', t, 'x']), /invalid --timeout/));
  }
  it('stop --term --kill', async () => expectOneLineError(await sdme(['stop', '--term', '--kill', 'x']), /exclusive/));
  it('ps --json --json-pretty', async () => expectOneLineError(await sdme(['ps', '--json', '--json-pretty']), /exclusive/));
  it('fs ls --json --json-pretty is refused like ps', async () =>
    expectOneLineError(await sdme(['fs', 'ls', '--json', '--json-pretty']), /exclusive/));
  it('pod ls --json --json-pretty is refused like ps', async () =>
    expectOneLineError(await sdme(['pod', 'ls', '--json', '--json-pretty']), /exclusive/));
  it('ps --json output parses (empty datadir)', async () => {
    const r = await sdme(['ps', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
  it('create --systemd-log-level loud, --storage zfs: parse errors', async () => {
    expectParseError(await sdme(['create', '--systemd-log-level', 'loud']), /loud/);
    expectParseError(await sdme(['create', '--storage', 'zfs']), /zfs/);
  });
  it('unknown command, unknown option, extra argument, missing exec command', async () => {
    expectParseError(await sdme(['bogus']), /unknown command 'bogus'/);
    expectParseError(await sdme(['ps', '--bogus']), /unknown option '--bogus'/);
    expectParseError(await sdme(['ps', 'extra']), /too many arguments/);
    expectParseError(await sdme(['exec', 'x']), /missing required argument 'cmd'/);
  });
  it('config completions zsh', async () =>
    expectOneLineError(await sdme(['config', 'completions', 'zsh']), /unsupported shell/));
});

describe.concurrent('non-root user', () => {
  const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  for (const args of [['ps'], ['create', '--name', 'x'], ['config', 'get'], ['rm', '-a', '-f']]) {
    it(`${args.join(' ')}: one 'Error:' line saying root is needed`, async () => {
      expectOneLineError(await sdme(args, { pre: asNobody, config: null, cwd: '/' }), /root/);
    });
  }
  it('config completions bash works without root', async () => {
    const r = await sdme(['config', 'completions', 'bash'], { pre: asNobody, config: null, cwd: '/' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -F _sdme sdme');
  });
});

/** A minimal ustar archive of regular files. */
function tarOf(entries: [string, string][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of entries) {
    const h = Buffer.alloc(512, 0);
    h.write(name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h);
    const body = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512, 0);
    body.write(content);
    blocks.push(body);
  }
  blocks.push(Buffer.alloc(1024, 0));
  return Buffer.concat(blocks);
}
