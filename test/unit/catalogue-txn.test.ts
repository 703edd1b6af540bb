import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gcStale, parseTxnEntry, pidAlive, Txn, txnEntryName } from '../../src/engine/catalogue/txn.js';

const base = mkdtempSync(join(tmpdir(), 'sdme-txn-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  const pid = Number(r.stdout.toString().trim());
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

let n = 0;
const freshDir = () => {
  const d = join(base, `fs${n++}`);
  mkdirSync(d);
  return d;
};

describe('parseTxnEntry', () => {
  it.each([
    ['.ubuntu.import-txn-123', { name: 'ubuntu', kind: 'import', pid: 123 }],
    ['.a-b.remove-txn-9', { name: 'a-b', kind: 'remove', pid: 9 }],
    ['.web.download-txn-42', { name: 'web', kind: 'download', pid: 42 }],
  ])('%s', (e, want) => expect(parseTxnEntry(e)).toEqual(want));

  it.each(['ubuntu', '.ubuntu.meta', '.ubuntu.env', '.ubuntu.import-txn-', '.ubuntu.import-txn-12x', 'x.import-txn-1', '.noext-txn-5'])(
    'ignores %s',
    (e) => expect(parseTxnEntry(e)).toBeUndefined(),
  );

  it('txnEntryName uses the current pid by default', () => {
    expect(txnEntryName('deb', 'build')).toBe(`.deb.build-txn-${process.pid}`);
  });
});

describe('gcStale', () => {
  it('removes dead-PID staging entries (dirs and files), keeps live ones and everything else', async () => {
    const dir = freshDir();
    const dead = deadPid();
    const keep = ['ubuntu', '.ubuntu.meta', '.ubuntu.env', `.live.import-txn-${process.pid}`];
    mkdirSync(join(dir, 'ubuntu'));
    writeFileSync(join(dir, '.ubuntu.meta'), 'DISTRO=ubuntu\n');
    writeFileSync(join(dir, '.ubuntu.env'), 'A=1\n');
    mkdirSync(join(dir, `.live.import-txn-${process.pid}`));
    mkdirSync(join(dir, `.ubuntu.import-txn-${dead}/etc`), { recursive: true });
    writeFileSync(join(dir, `.ubuntu.import-txn-${dead}/etc/os-release`), 'x');
    writeFileSync(join(dir, `.other.download-txn-${dead}`), 'partial');
    expect(await gcStale(dir)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(keep.sort());
    expect(await gcStale(dir)).toBe(0);
    expect(await gcStale(join(base, 'missing'))).toBe(0);
  });

  it('with a name, only that name is collected', async () => {
    const dir = freshDir();
    const dead = deadPid();
    mkdirSync(join(dir, `.a.import-txn-${dead}`));
    mkdirSync(join(dir, `.ab.import-txn-${dead}`));
    expect(await gcStale(dir, 'a')).toBe(1);
    expect(readdirSync(dir)).toEqual([`.ab.import-txn-${dead}`]);
  });
});

describe('Txn', () => {
  it('prepare gc-s dead leftovers of this name, stages, commit renames into place', async () => {
    const dir = freshDir();
    const dead = deadPid();
    mkdirSync(join(dir, `.deb.import-txn-${dead}`));
    mkdirSync(join(dir, `.other.import-txn-${dead}`));
    const t = new Txn(dir, 'deb', 'import');
    const staging = await t.prepare();
    expect(staging).toBe(join(dir, `.deb.import-txn-${process.pid}`));
    expect(readdirSync(dir).sort()).toEqual([`.deb.import-txn-${process.pid}`, `.other.import-txn-${dead}`].sort());
    writeFileSync(join(staging, 'marker'), 'ok');
    await t.commit();
    expect(readFileSync(join(dir, 'deb', 'marker'), 'utf8')).toBe('ok');
    expect(existsSync(staging)).toBe(false);
    await t.abort(); // no-op after commit
    expect(existsSync(join(dir, 'deb', 'marker'))).toBe(true);
  });

  it('autoGc false leaves dead leftovers alone; own leftover is always replaced', async () => {
    const dir = freshDir();
    const dead = deadPid();
    mkdirSync(join(dir, `.deb.import-txn-${dead}`));
    const own = join(dir, `.deb.import-txn-${process.pid}`);
    mkdirSync(own);
    writeFileSync(join(own, 'stale'), 'x');
    const t = new Txn(dir, 'deb', 'import', { autoGc: false });
    await t.prepare();
    expect(readdirSync(own)).toEqual([]);
    expect(existsSync(join(dir, `.deb.import-txn-${dead}`))).toBe(true);
  });

  it('abort removes the staging dir; file staging with mkdir false', async () => {
    const dir = freshDir();
    const t = new Txn(dir, 'x', 'export');
    const s = await t.prepare();
    mkdirSync(join(s, 'a/b'), { recursive: true });
    await t.abort();
    expect(readdirSync(dir)).toEqual([]);
    const d = new Txn(dir, 'img', 'download');
    const f = await d.prepare({ mkdir: false });
    expect(existsSync(f)).toBe(false);
    writeFileSync(f, 'bytes');
    await d.commit(join(dir, 'img.tar'));
    expect(readFileSync(join(dir, 'img.tar'), 'utf8')).toBe('bytes');
  });
});
