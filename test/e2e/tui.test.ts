/**
 * sdme-tui through a real terminal (tmux, 120x40) against the real engine in
 * the sandbox host: create a host-clone container with the wizard
 * (create-and-start), see it running, read its boot journal, run a command
 * through the shell hand-off, stop it, remove it by typing its name, quit,
 * and check the terminal left the alternate screen.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, which } from '../../src/native/run.js';
import { CHECKOUT, cleanupContainers, containersWithPrefix, inSandbox, sdme, uniqueName } from './helpers.js';

const PREFIX = 'tui';
const SOCK = `sdme-tui-e2e-${randomBytes(3).toString('hex')}`;
const S = 'tui';

async function tmux(...args: string[]): Promise<string> {
  const r = await run('tmux', ['-L', SOCK, ...args], { timeoutMs: 15_000 });
  if (r.exitCode !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The visible screen (the TUI's alternate screen while it runs). */
const screen = () => tmux('capture-pane', '-p', '-t', S);
/** The visible screen and the one tmux keeps aside (the normal screen while the TUI shows). */
const bothScreens = async () => `${await screen()}\n${await tmux('capture-pane', '-p', '-a', '-t', S).catch(() => '')}`;
const altOn = async () => (await tmux('display', '-p', '-t', S, '#{alternate_on}')).trim();
const keys = (...k: string[]) => tmux('send-keys', '-t', S, ...k);
const text = (t: string) => tmux('send-keys', '-t', S, '-l', t);

/** Poll the screen until pred holds; on timeout the error shows the last screen. */
async function waitScreen(pred: (s: string) => boolean, ms: number, what: string, cap = screen): Promise<string> {
  const until = Date.now() + ms;
  let last = '';
  for (;;) {
    last = await cap().catch((e: Error) => `(capture failed: ${e.message})`);
    if (pred(last)) return last;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sdme-tui in a real terminal (tmux) against the sandbox engine', () => {
  const name = uniqueName(PREFIX);
  const row = (status: string) => new RegExp(`^[>* ] ${name} +${status}\\b`, 'm');

  beforeAll(async () => {
    inSandbox();
    if (!which('tmux')) throw new Error('tmux is not installed in the sandbox host (apt-get install tmux)');
    await tmux(
      'new-session', '-d', '-s', S, '-x', '120', '-y', '40',
      `cd ${CHECKOUT} && node bin/sdme-tui.js; echo TUI-EXIT=$?; sleep 600`,
    );
  });

  afterAll(async () => {
    await run('tmux', ['-L', SOCK, 'kill-server'], { timeoutMs: 10_000 });
    await cleanupContainers(name);
  });

  it('creates through the wizard, shows it running with its boot journal, shells in, stops, removes, quits cleanly', async () => {
    // ---- first frame: header names the sandbox, the status line offers n new
    const first = await waitScreen((s) => /systemd \d+/.test(s.split('\n')[0] ?? '') && s.includes('n new'), 30_000, 'the first frame with host facts');
    expect(first.split('\n')[0]).toMatch(/ sandbox \S+ /);
    expect(await altOn()).toBe('1');

    // ---- wizard: replace the suggested name, keep the host rootfs, create and start
    await keys('n');
    await waitScreen((s) => /\$ sdme create --name \S+/.test(s), 15_000, 'the wizard with a suggested name');
    await keys(...Array(40).fill('BSpace'));
    await text(name);
    const wiz = await waitScreen((s) => s.includes(`$ sdme create --name ${name}\n`) || new RegExp(`\\$ sdme create --name ${name} *│`).test(s), 15_000, 'the typed name in the preview');
    expect(wiz).toMatch(/Root fs +‹ host \(clone \/\) ›/);
    expect(wiz).toMatch(/│valid +│/);
    expect(wiz).toMatch(/capabilities +26 /);
    await keys('Up'); // wraps from Name to the last field: [ Create and start ]
    await keys('Enter');

    // ---- progress while it boots, then the row shows running
    let sawProgress = false;
    await waitScreen(
      (s) => {
        if (new RegExp(`^[>* ] ${name} +. `, 'm').test(s) || s.includes(`${name}: `)) sawProgress = true;
        return row('running').test(s);
      },
      180_000,
      `${name} running`,
    );
    expect(sawProgress).toBe(true);
    expect(containersWithPrefix(name)).toEqual([name]);

    // ---- its journal (focus the pane) shows boot lines
    await keys('Tab');
    const j = await waitScreen((s) => s.includes('Reached target'), 30_000, 'boot lines in the journal pane');
    expect(j).toContain(`journal ${name}`);
    // Tab again (not Esc: a lone ESC waits for a following byte and would turn the next key into Alt+key)
    await keys('Tab');
    await waitScreen((s) => !s.includes('journal: following'), 10_000, 'focus back on the list');

    // ---- shell hand-off: run a command in the container, come back to the TUI
    await keys('c');
    await waitScreen((s) => s.includes(`Connected to machine ${name}`), 30_000, 'the machinectl shell');
    expect(await altOn()).toBe('0');
    await text('hostname; exit');
    await keys('Enter');
    await waitScreen((s) => s.includes('sdme-tui') && row('running').test(s), 30_000, 'the TUI back after the shell');
    expect(await altOn()).toBe('1');
    const shellOut = await bothScreens();
    expect(shellOut.split('\n').map((l) => l.trimEnd())).toContain(name);

    // ---- stop
    await keys('x');
    await waitScreen((s) => row('stopped').test(s), 120_000, `${name} stopped`);

    // ---- remove: the confirm needs the exact name
    await keys('D');
    await waitScreen((s) => s.includes(`Remove container '${name}'?`), 15_000, 'the remove confirmation');
    await text(name);
    await keys('Enter');
    await waitScreen((s) => s.includes(`removed ${name}`), 120_000, `removed ${name}`);
    expect(containersWithPrefix(name)).toEqual([]);
    const ps = await sdme(['ps']);
    expect(ps.stdout).not.toContain(name);

    // ---- quit: terminal restored
    await keys('q');
    await waitScreen((s) => s.includes('TUI-EXIT=0'), 15_000, 'the TUI to exit', screen);
    expect(await altOn()).toBe('0');
  });
});
