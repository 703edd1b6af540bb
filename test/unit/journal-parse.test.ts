import { describe, expect, it } from 'vitest';
import { decodeJournalField, journalArgs, parseJournalLine } from '../../src/engine/systemd/journal.js';

// Fake `journalctl -o json` lines shaped like real journald output (journal-odd-messages.md).
function fakeLine(message: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    __CURSOR: 's=abc;i=2b',
    __REALTIME_TIMESTAMP: '1796315431656331',
    __MONOTONIC_TIMESTAMP: '1136538423',
    _PID: '41',
    PRIORITY: '6',
    SYSLOG_IDENTIFIER: 'oddtest',
    _SYSTEMD_UNIT: 'sdme@web.service',
    MESSAGE: message,
    ...extra,
  });
}

const bytes = (s: string) => Array.from(Buffer.from(s, 'latin1'));

describe('decodeJournalField (fake values)', () => {
  it.each([
    ['plain string', 'plain', 'plain'],
    ['CR at end as bytes', bytes('cr-at-end\r'), 'cr-at-end\r'],
    ['ESC colour as bytes', bytes('\x1b[32mgreen \x1b[0m'), '\x1b[32mgreen \x1b[0m'],
    ['FF FE + " bad"', [0xff, 0xfe, 0x20, 0x62, 0x61, 0x64], '\uFFFD\uFFFD bad'],
    ['valid multibyte UTF-8 bytes', Array.from(Buffer.from('héllo ✓', 'utf8')), 'héllo ✓'],
    ['truncated UTF-8 sequence', [0x61, 0xe2, 0x9c], 'a\uFFFD'],
    ['empty string', '', ''],
    ['empty byte array', [], ''],
    ['null (too long without --all)', null, ''],
  ] as const)('%s', (_n, input, want) => {
    expect(decodeJournalField(input as string | number[] | null)).toBe(want);
  });
});

describe('parseJournalLine (fake journal lines)', () => {
  it('plain message with all metadata', () => {
    expect(parseJournalLine(fakeLine('plain'))).toEqual({
      ts: 1796315431656331,
      message: 'plain',
      unit: 'sdme@web.service',
      priority: 6,
      pid: 41,
      identifier: 'oddtest',
      cursor: 's=abc;i=2b',
    });
  });

  it('CR at end (byte array) keeps the CR', () => {
    expect(parseJournalLine(fakeLine(bytes('cr-at-end\r')))?.message).toBe('cr-at-end\r');
  });

  it('ESC colour sequence (byte array) decodes to the raw escape text', () => {
    const real = [27, 91, 51, 50, 109, 103, 114, 101, 101, 110, 32, 27, 91, 48, 109];
    expect(parseJournalLine(fakeLine(real))?.message).toBe('\x1b[32mgreen \x1b[0m');
  });

  it('bytes FF FE " bad" become U+FFFD U+FFFD " bad"', () => {
    expect(parseJournalLine(fakeLine([255, 254, 32, 98, 97, 100]))?.message).toBe('\uFFFD\uFFFD bad');
  });

  it('10000-character line is complete', () => {
    const long = 'x'.repeat(9999) + 'y';
    const e = parseJournalLine(fakeLine(long));
    expect(e?.message.length).toBe(10000);
    expect(e?.message.endsWith('xy')).toBe(true);
  });

  it('embedded newline is kept inside one entry', () => {
    expect(parseJournalLine(fakeLine('line1\nline2'))?.message).toBe('line1\nline2');
  });

  it('empty message', () => {
    const e = parseJournalLine(fakeLine(''));
    expect(e?.message).toBe('');
    expect(e?.ts).toBe(1796315431656331);
  });

  it('null message (over 4096 bytes without --all) gives empty text, not a crash', () => {
    expect(parseJournalLine(fakeLine(null))?.message).toBe('');
  });

  it('missing MESSAGE and metadata', () => {
    expect(parseJournalLine('{"__REALTIME_TIMESTAMP":"5"}')).toEqual({ ts: 5, message: '' });
  });

  it('UNIT is used when _SYSTEMD_UNIT is absent; byte-array identifier decodes', () => {
    const e = parseJournalLine(fakeLine('m', { _SYSTEMD_UNIT: undefined, UNIT: 'x.service', SYSLOG_IDENTIFIER: [0x61, 0xff] }));
    expect(e?.unit).toBe('x.service');
    expect(e?.identifier).toBe('a\uFFFD');
  });

  it('repeated field (array of values) takes the first', () => {
    expect(parseJournalLine(fakeLine(['first', 'second']))?.message).toBe('first');
  });

  it.each([[''], ['   '], ['not json'], ['{"MESSAGE":'], ['[1,2]'], ['null']])('unparsable %j -> undefined', (l) => {
    expect(parseJournalLine(l)).toBeUndefined();
  });

  it('non-numeric PRIORITY/_PID are omitted', () => {
    const e = parseJournalLine(fakeLine('m', { PRIORITY: 'x', _PID: '' }));
    expect(e?.priority).toBeUndefined();
    expect(e?.pid).toBeUndefined();
  });
});

describe('journalArgs', () => {
  it.each([
    [{ unit: 'sdme@a.service' }, ['-o', 'json', '--all', '--no-pager', '-u', 'sdme@a.service']],
    [{ machine: 'a', lines: 50 }, ['-o', 'json', '--all', '--no-pager', '-M', 'a', '-n', '50']],
    [{ unit: 'u', follow: true, since: '-10min' }, ['-o', 'json', '--all', '--no-pager', '-u', 'u', '--since', '-10min', '-f']],
    [{}, ['-o', 'json', '--all', '--no-pager']],
  ])('%j', (q, want) => {
    expect(journalArgs(q)).toEqual(want);
  });
  it('rejects a negative line count', () => {
    expect(() => journalArgs({ lines: -1 })).toThrow('invalid line count: -1');
  });
});
