import { describe, expect, it } from 'vitest';
import { DemoPort } from '../../src/state/demo-port.js';
import { JournalFeed } from '../../src/state/journal-feed.js';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('DemoPort (fake engine) journal follow', () => {
  it('delivers every line of a flood larger than the kept log, in order', async () => {
    const port = new DemoPort({ journalMs: 0, history: 3, actionMs: 1 });
    const feed = new JournalFeed({ flushMs: 5, capacity: 20_000 }).start(port, 'db', { lines: 0 });
    await tick(20);
    // 8 bursts of 1500 (the demo keeps the newest 2000..4000 lines, so it trims
    // several times): nothing may be skipped or repeated
    for (let b = 0; b < 8; b++) {
      for (let i = 0; i < 1500; i++) port.pushLog('db', `line ${b * 1500 + i}`);
      await tick(30);
    }
    await tick(50);
    feed.close();
    const msgs: string[] = [];
    for (let i = 0; i < feed.ring.length; i++) msgs.push(feed.ring.at(i)!.message);
    expect(msgs).toHaveLength(12_000);
    expect(msgs[0]).toBe('line 0');
    expect(msgs[11_999]).toBe('line 11999');
    expect(msgs.every((m, i) => m === `line ${i}`)).toBe(true);
  });

  it('validates create flags with the engine resolver: hardened gives userns and a private network', async () => {
    const port = new DemoPort({ journalMs: 0 });
    const v = await port.validateCreateFlags({ name: 'x1', rootfs: 'debian', network: 'host', preset: 'hardened', dropCaps: [], addCaps: [], binds: [], envs: [] });
    expect(v.errors).toEqual([]);
    const row = (l: string) => v.isolation!.items.find((i) => i.label === l)!;
    expect(row('user namespace').ours).toBe('yes (root unmapped)');
    expect(row('network').ours).toBe('private');
    expect(row('capabilities').ours).toMatch(/^24 /);
    const bad = await port.validateCreateFlags({ name: 'web', rootfs: 'nope', network: 'host', preset: 'none', dropCaps: [], addCaps: [], binds: [], envs: [] });
    expect(bad.errors.map((e) => e.field).sort()).toEqual(['name', 'rootfs']);
  });
});
