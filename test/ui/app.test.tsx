import { afterEach, describe, expect, it } from 'vitest';
import { renderApp, KEYS, plain, tick, fakePort, type Harness } from './fakes.js';

let h: Harness | null = null;
afterEach(() => {
  h?.cleanup();
  h = null;
});

const lines = (f: string) => plain(f).split('\n');

describe('App at 40x15 (fake port)', () => {
  it('shows the too-small message and still quits', async () => {
    h = await renderApp(40, 15);
    const l = lines(h.frame());
    expect(l[0]).toBe('Terminal too small: 40x15.');
    expect(l[1]).toBe('sdme-tui needs at least 60x15.');
    await h.press('q');
    expect(h.quits).toBe(1);
  });
});

describe('App at 80x24 (fake port)', () => {
  it('fills exactly 24 rows of at most 80 cells, with header, tabs and list', async () => {
    h = await renderApp(80, 24);
    const f = await h.waitFor((x) => x.includes('journal build-box'));
    const l = lines(f);
    expect(l).toHaveLength(24);
    for (const row of l) expect(row.length).toBeLessThanOrEqual(80);
    expect(l[0]).toContain('demo-host');
    expect(l[0]).toContain('running 3  stopped 2  pods 1');
    expect(l[1]).toContain('1 Containers (5)');
    expect(l[2]).toMatch(/^ {2}NAME↑ +STATUS/);
    expect(l[3]).toMatch(/^> build-box +stopped/);
    // narrow: the journal pane takes the bottom (no detail beside it)
    expect(f).toContain('journal build-box [follow]');
    expect(l[23]).toContain('s start');
    expect(l[23]).not.toContain('x stop');
  });

  it('moves the selection and offers actions valid for the row', async () => {
    h = await renderApp(80, 24);
    await h.press('j');
    let l = lines(h.frame());
    expect(l[4]).toMatch(/^> db +running/);
    expect(l[23]).toMatch(/^x stop {2}r restart {2}c shell {2}D remove {2}e enable/);
    await h.press('G');
    l = lines(h.frame());
    expect(l[7]).toMatch(/^> web /);
    await h.press('g');
    expect(lines(h.frame())[3]).toMatch(/^> build-box/);
  });

  it('filters with / and clears with Esc', async () => {
    h = await renderApp(80, 24);
    await h.press('/', 'u', 'b');
    let l = lines(h.frame());
    expect(l[3]).toMatch(/^> ubu /);
    expect(l[4]!.trim()).toBe('');
    expect(l[23]).toContain('filter: ub');
    await h.press(KEYS.enter, KEYS.escape);
    l = lines(h.frame());
    expect(l[3]).toMatch(/build-box/);
  });

  it('sorts by the next column and reverses', async () => {
    h = await renderApp(80, 24);
    await h.press('o'); // status
    let l = lines(h.frame());
    expect(l[2]).toContain('STATUS↑');
    expect(l.slice(3, 8).map((x) => x.slice(2).split(/ +/)[1])).toEqual(['running', 'running', 'running', 'stopped', 'stopped']);
    await h.press('O');
    l = lines(h.frame());
    expect(l[2]).toContain('STATUS↓');
    expect(l[3]!.slice(2).split(/ +/)[1]).toBe('stopped');
  });

  it('selection survives refreshes and clamps when rows disappear', async () => {
    h = await renderApp(80, 24);
    await h.press('G'); // web (index 4)
    await h.ctl.refreshAll();
    await tick(30);
    expect(lines(h.frame())[7]).toMatch(/^> web/);
    await h.port.remove('web');
    await h.waitFor((f) => !plain(f).includes(' web '));
    // clamped to the new last row
    expect(lines(h.frame())[6]).toMatch(/^> ubu/);
  });

  it('start runs in the background with a busy row, then shows running', async () => {
    h = await renderApp(80, 24, { port: fakePort({ actionMs: 300 }) });
    await h.press('s');
    // the row shows the boot phase reported by the port, the status line spells it out
    const l = lines(h.frame());
    expect(l[3]).toMatch(/build-box +. waiting/);
    expect(l[23]).toContain('build-box: waiting for boot');
    await h.waitFor((f) => /build-box +running/.test(plain(f)));
    expect(h.port.calls).toContain('start build-box');
    expect(plain(h.frame())).toContain('start build-box: ok');
  });

  it('stop pressed again escalates to terminate, then kill', async () => {
    const port = fakePort({ actionMs: 4000 });
    h = await renderApp(80, 24, { port });
    await h.press('j', 'x');
    await h.waitFor((f) => /db +. stop/.test(lines(f)[4]!));
    await h.press('x');
    await h.waitFor((f) => /db +. terminate/.test(lines(f)[4]!));
    await h.press('x');
    expect(port.calls.filter((c) => c.startsWith('stop db'))).toEqual(['stop db graceful', 'stop db term', 'stop db kill']);
  });

  it('refuses actions not valid in the row state and says so', async () => {
    h = await renderApp(80, 24);
    await h.press('x'); // build-box is stopped
    expect(h.port.calls).toEqual([]);
    expect(lines(h.frame())[23]).toContain('stop not possible now for: build-box');
  });

  it('remove asks to type the name; a wrong name does nothing', async () => {
    h = await renderApp(80, 24);
    await h.press('D');
    expect(plain(h.frame())).toContain(`Remove container 'build-box'?`);
    await h.press('b', 'u', 'g', KEYS.enter);
    expect(h.port.calls).toEqual([]);
    expect(lines(h.frame())[23]).toContain('type "build-box" to confirm');
    await h.press(KEYS.backspace, KEYS.backspace, KEYS.backspace, ...'build-box', KEYS.enter);
    await h.waitFor((f) => !plain(f).includes('build-box '));
    expect(h.port.calls).toContain('remove build-box');
  });

  it('bulk: marked rows all get the action', async () => {
    h = await renderApp(80, 24);
    await h.press(' ', 'j', ' '); // mark build-box and scratch (mark moves down)
    const l = lines(h.frame());
    expect(l[3]).toMatch(/^\* build-box/);
    expect(l[5]).toMatch(/^\* scratch/);
    await h.press('s');
    await h.waitFor((f) => /scratch +running/.test(plain(f)) && /build-box +running/.test(plain(f)));
    expect(h.port.calls.sort()).toEqual(['start build-box', 'start scratch']);
  });

  it('shell hands off the machinectl argv for a running container only', async () => {
    h = await renderApp(80, 24);
    await h.press('c');
    expect(h.handoffs).toEqual([]);
    await h.press('j', 'c');
    expect(h.handoffs).toEqual([{ cmd: 'machinectl', args: ['shell', 'db'] }]);
  });

  it('help overlay opens with ? and closes with any key', async () => {
    h = await renderApp(80, 24);
    await h.press('?');
    const f = plain(h.frame());
    expect(f).toContain('stop (again: terminate, th');
    expect(f).toContain('keymap: /tmp/keys.json');
    expect(lines(h.frame())).toHaveLength(24);
    await h.press('z');
    expect(plain(h.frame())).not.toContain('this help');
  });

  it('journal focus: timestamps toggle, scroll pauses follow, search jumps', async () => {
    h = await renderApp(80, 24, { port: fakePort({ history: 40 }) });
    await h.press('j'); // db
    await h.waitFor((f) => plain(f).includes('db: history line 40'));
    await h.press(KEYS.tab, 't');
    let f = plain(h.frame());
    expect(f).toMatch(/│db: history line 40 +│/);
    await h.press('k');
    f = plain(h.frame());
    expect(f).toContain('journal db [paused]');
    expect(f).not.toContain('history line 40');
    await h.press('/', ...'line 7', KEYS.enter);
    f = plain(h.frame());
    expect(f).toMatch(/│db: history line 1 +│/);
    expect(f).toMatch(/│db: history line 7 +│/);
    await h.press('G');
    expect(plain(h.frame())).toContain('journal db [follow]');
  });

  it('Pods tab: member journals interleaved and tagged', async () => {
    h = await renderApp(80, 24);
    await h.press('2');
    await h.waitFor((x) => plain(x).includes('[web]'));
    await h.press(KEYS.tab, 'g');
    const f = await h.waitFor((x) => plain(x).includes('[db]') && plain(x).includes('[web]'));
    expect(lines(f)[3]).toMatch(/^> shop +yes +veth +web, db/);
    expect(plain(f)).toContain('journal web + db');
  });

  it('the wizard validates inline and creates with the previewed command', async () => {
    h = await renderApp(80, 24);
    await h.press('n');
    await h.waitFor((f) => plain(f).includes('$ sdme create --name brisk-otter'));
    // memory field: type a bad value
    await h.press(...Array(9).fill(KEYS.down));
    let f = plain(h.frame());
    expect(f).toMatch(/Memory +█/);
    await h.press('1', '2', 'X');
    f = await h.waitFor((x) => plain(x).includes("✗ invalid --memory '12X'"));
    expect(plain(f)).toContain('--memory 12X');
    // a host clone refuses --strict on systemd 252 (the fake's version): pick the debian rootfs, then strict
    await h.press(KEYS.backspace, 'M', ...Array(8).fill(KEYS.up), KEYS.right, KEYS.down, KEYS.down, KEYS.right, KEYS.right);
    f = await h.waitFor((x) => plain(x).includes('--memory 12M') && plain(x).includes('--strict') && plain(x).includes('valid'));
    expect(plain(f)).toContain('$ sdme create --name brisk-otter -r debian --strict --memory 12M');
    // go to "Create and start" (last field) and press Enter
    await h.press(KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.enter);
    await h.waitFor((x) => /brisk-otter +running/.test(plain(x)), 3000);
    expect(h.port.calls).toContain('create brisk-otter started');
  });
});

describe('App input chunks (fake port)', () => {
  it('a name typed in one chunk and erased by a chunk of backspaces is taken whole', async () => {
    h = await renderApp(80, 24);
    await h.press('n');
    await h.waitFor((f) => plain(f).includes('$ sdme create --name brisk-otter'));
    await h.press('\x7f'.repeat(20), 'my-box1');
    const f = await h.waitFor((x) => plain(x).includes('$ sdme create --name my-box1'));
    expect(plain(f)).toMatch(/Name +my-box1█/);
  });
});

describe('App at 120x40 (fake port)', () => {
  it('shows detail with isolation and journal side by side, exactly 40 rows', async () => {
    h = await renderApp(120, 40);
    await h.press('G'); // web, running
    const f = await h.waitFor((x) => plain(x).includes('docker default') && plain(x).includes('progress 100%'));
    const l = lines(f);
    expect(l).toHaveLength(40);
    for (const row of l) expect([...row].length).toBeLessThanOrEqual(120);
    const detailTop = l.findIndex((x) => x.startsWith('╭'));
    expect(l[detailTop + 1]).toMatch(/^│web +││journal web \[follow\]/);
    expect(plain(f)).toMatch(/capabilities +!26 \(\+SYS_ADM/);
    expect(plain(f)).toMatch(/user namespace +no \(root is host root\)|user namespace +no \(root is/);
    // the odd journal entries render cleanly in the pane
    expect(plain(f)).toContain('progress 100%');
    expect(plain(f)).not.toContain('progress 10%');
    expect(f).not.toMatch(/\x1b\]|\x07|\x1b\[\?1049|\x1b\[6n/);
  });

  it('re-lays out on resize, down to the too-small message and back', async () => {
    h = await renderApp(120, 40);
    h.stdout.resize(80, 24);
    await tick(50);
    expect(lines(h.frame())).toHaveLength(24);
    h.stdout.resize(59, 24);
    await tick(50);
    expect(lines(h.frame())[0]).toBe('Terminal too small: 59x24.');
    h.stdout.resize(120, 40);
    await tick(50);
    expect(lines(h.frame())).toHaveLength(40);
  });
});
