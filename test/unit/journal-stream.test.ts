import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJournal, type JournalEntry } from '../../src/engine/systemd/journal.js';

// A fake journalctl (shell script) that prints the odd-message fixture lines.
const dir = mkdtempSync(join(tmpdir(), 'sdme-fake-journal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const odd: unknown[] = [
  'plain',
  Array.from(Buffer.from('cr-at-end\r', 'latin1')),
  Array.from(Buffer.from('\x1b[32mgreen \x1b[0m', 'latin1')),
  [0xff, 0xfe, 0x20, 0x62, 0x61, 0x64],
  'z'.repeat(10000),
  'line1\nline2',
  '',
  null,
];
const want = ['plain', 'cr-at-end\r', '\x1b[32mgreen \x1b[0m', '\uFFFD\uFFFD bad', 'z'.repeat(10000), 'line1\nline2', '', ''];
const fixture = join(dir, 'lines.json');
writeFileSync(
  fixture,
  odd.map((m, i) => JSON.stringify({ __REALTIME_TIMESTAMP: String(1000 + i), MESSAGE: m, _PID: '7' })).join('\n') + '\n',
);

function fakeJournalctl(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\necho "$@" > ${dir}/${name}.args\n${body}\n`, { mode: 0o755 });
  return p;
}

async function collect(it: AsyncIterable<JournalEntry>, max = Infinity): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for await (const e of it) {
    out.push(e);
    if (out.length >= max) break;
  }
  return out;
}

describe('readJournal with a fake journalctl', () => {
  it('history: every odd entry appears, in order, decoded', async () => {
    const bin = fakeJournalctl('hist', `cat ${fixture}`);
    const got = await collect(readJournal({ unit: 'sdme@a.service', lines: 50, journalctl: bin }));
    expect(got.map((e) => e.message)).toEqual(want);
    expect(got.map((e) => e.ts)).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    expect(readFileSync(join(dir, 'hist.args'), 'utf8').trim()).toBe('-o json --all --no-pager -u sdme@a.service -n 50');
  });

  it('follow: keeps streaming after the odd entries; abort ends cleanly', async () => {
    const bin = fakeJournalctl(
      'follow',
      `cat ${fixture}; sleep 0.2; echo '{"__REALTIME_TIMESTAMP":"2000","MESSAGE":"after-odd"}'; exec sleep 30`,
    );
    const ac = new AbortController();
    const got: string[] = [];
    const t0 = Date.now();
    for await (const e of readJournal({ machine: 'a', follow: true, signal: ac.signal, journalctl: bin })) {
      got.push(e.message);
      if (e.message === 'after-odd') ac.abort();
    }
    expect(got).toEqual([...want, 'after-odd']);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(readFileSync(join(dir, 'follow.args'), 'utf8').trim()).toBe('-o json --all --no-pager -M a -f');
  });

  it('consumer break kills the child promptly', async () => {
    const bin = fakeJournalctl('brk', `cat ${fixture}; exec sleep 30`);
    const t0 = Date.now();
    const got = await collect(readJournal({ follow: true, journalctl: bin }), 2);
    expect(got.map((e) => e.message)).toEqual(want.slice(0, 2));
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('journalctl failure becomes a one-line SdmeError', async () => {
    const bin = fakeJournalctl('fail', `echo 'No machine "nope" known' >&2; echo second >&2; exit 1`);
    await expect(collect(readJournal({ machine: 'nope', journalctl: bin }))).rejects.toThrow(
      'journalctl failed: No machine "nope" known',
    );
  });

  it('missing journalctl binary is reported', async () => {
    await expect(collect(readJournal({ journalctl: join(dir, 'does-not-exist') }))).rejects.toThrow(/journalctl failed: .*ENOENT/);
  });
});
