import { describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { applySgr, sanitizeLog, segmentsText, wrapSegments, color256 } from '../../src/components/log-text.js';

const text = (m: string) => sanitizeLog(m).map(segmentsText);

describe('sanitizeLog: journal-odd-messages.md inputs', () => {
  it.each([
    ['plain', ['plain']],
    ['cr-at-end\r', ['cr-at-end']],
    ['\x1b[32mgreen \x1b[0m', ['green ']],
    ['\uFFFD\uFFFD bad', ['\uFFFD\uFFFD bad']],
    ['line one\nline two', ['line one', 'line two']],
    ['', ['']],
  ])('%j -> %j', (input, want) => {
    expect(text(input)).toEqual(want);
  });

  it('keeps a 10000-character line complete', () => {
    const long = 'x'.repeat(9990) + '0123456789';
    const [line] = sanitizeLog(long);
    expect(segmentsText(line!)).toBe(long);
    const rows = wrapSegments(line!, 77);
    expect(rows.map(segmentsText).join('')).toBe(long);
    expect(rows).toHaveLength(Math.ceil(10000 / 77));
  });

  it('applies the SGR colour instead of showing it', () => {
    const [line] = sanitizeLog('\x1b[32mgreen \x1b[0mplain');
    expect(line).toEqual([
      { text: 'green ', style: { fg: 'green' } },
      { text: 'plain', style: {} },
    ]);
  });
});

describe('sanitizeLog: log-control-sequences.md inputs', () => {
  it.each([
    ['\x1b[31mred\x1b[39m \x1b[1;44mbold on blue\x1b[0m', ['red bold on blue']],
    ['\x1b[2K\x1b[1Gerased', ['erased']],
    ['\x1b[?1049halt screen\x1b[?1049l', ['alt screen']],
    ['\x1b]0;my title\x07after', ['after']],
    ['\x1b]0;my title\x1b\\after ST', ['after ST']],
    ['\x1b[6nquery', ['query']],
    ['10%\r50%\r100%', ['100%']],
    ['[##   ] 40%\r[#####] 100%\r', ['[#####] 100%']],
    ['back\bspace', ['backspace']],
    ['bell\x07 here', ['bell here']],
    ['nul\x00 byte', ['nul byte']],
    ['c1 csi \x9b31mtext', ['c1 csi text']],
    ['osc8 \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\', ['osc8 link']],
    ['charset \x1b(Bok', ['charset ok']],
    ['trailing esc \x1b', ['trailing esc ']],
    ['tab\there', ['tab     here']],
    ['del\x7f char', ['del char']],
  ])('%j -> %j', (input, want) => {
    const out = text(input);
    expect(out).toEqual(want);
    for (const l of out) {
      expect(l).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    }
  });

  it('SGR state carries across a CR and applies to the last segment', () => {
    const [line] = sanitizeLog('\x1b[33mloading 1\rloading 2');
    expect(line).toEqual([{ text: 'loading 2', style: { fg: 'yellow' } }]);
  });

  it('256 and true colour', () => {
    expect(applySgr({}, '38;5;196')).toEqual({ fg: '#ff0000' });
    expect(applySgr({}, '48;2;1;2;3')).toEqual({ bg: '#010203' });
    expect(applySgr({ bold: true, fg: 'red' }, '22;39')).toEqual({});
    expect(color256(9)).toBe('redBright');
    expect(color256(232)).toBe('#080808');
  });
});

describe('wrapSegments', () => {
  it('wraps by cell width, wide characters never split', () => {
    const [line] = sanitizeLog('日本語テキスト');
    const rows = wrapSegments(line!, 5);
    expect(rows.map(segmentsText)).toEqual(['日本', '語テ', 'キス', 'ト']);
    for (const r of rows) expect(stringWidth(segmentsText(r))).toBeLessThanOrEqual(5);
  });

  it('keeps styles across the break', () => {
    const [line] = sanitizeLog('ab\x1b[31mcdef');
    const rows = wrapSegments(line!, 3);
    expect(rows).toEqual([
      [{ text: 'ab', style: {} }, { text: 'c', style: { fg: 'red' } }],
      [{ text: 'def', style: { fg: 'red' } }],
    ]);
  });

  it('an empty line is one empty row', () => {
    expect(wrapSegments([], 10)).toEqual([[]]);
  });
});
