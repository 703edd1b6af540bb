import { afterEach, describe, expect, it, vi } from 'vitest';
import React from 'react';
import { render, cleanup } from 'ink-testing-library';
import { LogView } from '../../src/components/LogView.js';
import { JournalFeed } from '../../src/state/journal-feed.js';
import { ThemeContext, makeTheme } from '../../src/components/theme.js';
import { scrollAnchor, visibleRows, LogLayoutCache, findMatch } from '../../src/components/log-view-model.js';
import { segmentsText } from '../../src/components/log-text.js';
import { fakePort, plain, tick } from './fakes.js';

// Ink colours through chalk, whose level is fixed when it loads: force level 1
// before any import (vi.hoisted runs first) instead of importing chalk here.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

afterEach(() => cleanup());

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

function feedOf(messages: string[], tags?: string[]): JournalFeed {
  const f = new JournalFeed({ flushMs: 1000 });
  messages.forEach((m, i) => f.add({ ts: T0 + i * 1000, message: m, unit: 'sdme@t.service', tag: tags?.[i] ?? '' }));
  f.flush();
  return f;
}

function view(feed: JournalFeed, width: number, height: number, extra: Partial<React.ComponentProps<typeof LogView>> = {}, color = false) {
  return render(
    <ThemeContext.Provider value={makeTheme(color ? {} : { NO_COLOR: '1' })}>
      <LogView feed={feed} width={width} height={height} showTs={false} showTag={false} anchor={null} {...extra} />
    </ThemeContext.Provider>,
  );
}

const ODD = ['plain', 'cr-at-end\r', '\x1b[32mgreen \x1b[0m', '\uFFFD\uFFFD bad', 'one\ntwo', ''];
const CTRL = [
  '\x1b[31mred\x1b[0m text',
  '\x1b[2K\x1b[1Gerased',
  '\x1b[?1049hscreen',
  '\x1b]0;title\x07titled',
  '\x1b[6nasked',
  '10%\r55%\r100%',
  'b\bs bel\x07 nul\x00',
];

describe('LogView: journal-odd-messages (fake feed)', () => {
  it('renders every entry in order, exactly', () => {
    const r = view(feedOf(ODD), 30, 7);
    expect(r.lastFrame()!.split('\n').map((l) => l.trimEnd())).toEqual(['plain', 'cr-at-end', 'green', '�� bad', 'one', 'two', '']);
  });

  it('the 10000-character line is complete across its wrapped rows', () => {
    const long = Array.from({ length: 1000 }, (_, i) => String(i % 10).repeat(10)).join('');
    const f = feedOf([long]);
    const rows = visibleRows(f.ring, { width: 100, height: 200, showTs: false, showTag: false, anchor: null });
    expect(rows).toHaveLength(100);
    expect(rows.map((r) => segmentsText(r.segs)).join('')).toBe(long);
    // the pane shows the tail
    const r = view(f, 100, 3);
    expect(r.lastFrame()!.split('\n')).toHaveLength(3);
  });

  it('follow keeps streaming after the odd entries (fake port)', async () => {
    const port = fakePort();
    const f = new JournalFeed({ flushMs: 5 }).start(port, 'web', { lines: 100 });
    await tick(40);
    port.pushLog('web', 'after odd 1');
    port.pushLog('web', 'after odd 2');
    await tick(40);
    const msgs = f.ring.toArray().map((e) => e.message);
    expect(msgs.slice(-3)).toEqual(['bell\x07 nul\x00 back\bspace', 'after odd 1', 'after odd 2']);
    expect(msgs).toContain('\uFFFD\uFFFD bad');
    f.close();
  });
});

describe('LogView: log-control-sequences', () => {
  it('shows text only, CR progress as its last segment', () => {
    const r = view(feedOf(CTRL), 40, 7);
    expect(r.lastFrame()!.split('\n').map((l) => l.trimEnd())).toEqual([
      'red text',
      'erased',
      'screen',
      'titled',
      'asked',
      '100%',
      'bs bel nul',
    ]);
  });

  it('with colour on, the frame holds only SGR escapes (no OSC, no cursor or mode changes)', () => {
    const r = view(feedOf(CTRL), 40, 7, {}, true);
    const frame = r.lastFrame()!;
    const escapes = frame.match(/\x1b[^a-zA-Z]*[a-zA-Z\\]/g) ?? [];
    expect(escapes.length).toBeGreaterThan(0); // red is applied
    for (const e of escapes) expect(e).toMatch(/^\x1b\[[0-9;]*m$/);
    expect(frame).not.toContain('\x07');
    expect(frame).not.toContain('\x1b]');
    expect(plain(frame).split('\n')[0]!.trimEnd()).toBe('red text');
  });

  it('rows never exceed the pane width (borders stay aligned)', () => {
    const r = view(feedOf(['日本語'.repeat(30), 'x'.repeat(95)]), 20, 12);
    const lines = r.lastFrame()!.split('\n');
    expect(lines).toHaveLength(12);
    for (const l of lines) expect([...l].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0)).toBeLessThanOrEqual(20);
  });
});

describe('journal view model', () => {
  it('timestamps and pod tags prefix the first row, continuations are indented', () => {
    const f = feedOf(['abcdefghij', 'x'], ['web', 'db']);
    const rows = visibleRows(f.ring, { width: 20, height: 10, showTs: true, showTag: true, anchor: null });
    const d = new Date(T0);
    const hh = String(d.getHours()).padStart(2, '0');
    expect(rows.map((r) => r.prefix + (r.tag ?? '') + segmentsText(r.segs))).toEqual([
      `${hh}:00:00 [web] abcde`,
      '               fghij',
      `${hh}:00:01 [db] x`,
    ]);
  });

  it('scrolls by rows and returns to follow at the bottom', () => {
    const f = feedOf(['a', 'b', 'c', 'd', 'e']);
    const o = { width: 10, height: 2, showTs: false, showTag: false, anchor: null };
    const cache = new LogLayoutCache();
    const up2 = scrollAnchor(f.ring, o, -2, cache);
    expect(up2).toEqual({ pos: 2, rowsBelow: 0 });
    expect(visibleRows(f.ring, { ...o, anchor: up2 }, cache).map((r) => segmentsText(r.segs))).toEqual(['b', 'c']);
    expect(scrollAnchor(f.ring, { ...o, anchor: up2 }, 2, cache)).toBeNull();
    expect(scrollAnchor(f.ring, o, -50, cache)).toEqual({ pos: 0, rowsBelow: 0 });
  });

  it('search finds older and newer matches, ignoring escapes', () => {
    const f = feedOf(['err one', 'ok', '\x1b[31merr\x1b[0m two', 'ok']);
    expect(findMatch(f.ring, 'ERR', 4, -1)).toBe(2);
    expect(findMatch(f.ring, 'err', 2, -1)).toBe(0);
    expect(findMatch(f.ring, 'err', 0, 1)).toBe(2);
    expect(findMatch(f.ring, 'err', 0, -1)).toBeNull();
  });

  it('the ring is bounded and batches flushes', async () => {
    const f = new JournalFeed({ capacity: 3, flushMs: 20 });
    let notified = 0;
    f.subscribe(() => notified++);
    for (let i = 0; i < 5; i++) f.add({ ts: T0 + i, message: `m${i}`, unit: 'u', tag: '' });
    expect(f.ring.length).toBe(0);
    await tick(50);
    expect(notified).toBe(1);
    expect(f.ring.toArray().map((e) => e.message)).toEqual(['m2', 'm3', 'm4']);
    expect(f.ring.dropped).toBe(2);
  });

  it('entries from several sources interleave by time', () => {
    const f = new JournalFeed();
    f.add({ ts: 3, message: 'c', unit: 'u', tag: 'a' });
    f.add({ ts: 1, message: 'a', unit: 'u', tag: 'b' });
    f.add({ ts: 2, message: 'b', unit: 'u', tag: 'a' });
    f.flush();
    expect(f.ring.toArray().map((e) => e.message)).toEqual(['a', 'b', 'c']);
    f.close();
  });
});
