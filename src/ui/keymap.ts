/**
 * Command-to-key registry. Keys are canonical names ('q', 'ctrl+c', 'up',
 * 'pageup', 'space', 'enter', 'escape', 'tab', 'shift+tab', ...). A user file
 * at $XDG_CONFIG_HOME/sdme/keys.json (default ~/.config/sdme/keys.json) maps
 * command names to a key or a list of keys and replaces those defaults.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Key } from 'ink';

export type Command =
  | 'quit' | 'help' | 'up' | 'down' | 'pageUp' | 'pageDown' | 'top' | 'bottom'
  | 'tabNext' | 'tabPrev' | 'tab1' | 'tab2' | 'tab3' | 'focus' | 'filter' | 'sort' | 'sortReverse'
  | 'start' | 'stop' | 'restart' | 'remove' | 'enable' | 'disable' | 'mark' | 'markAll' | 'shell' | 'new'
  | 'detail' | 'refresh' | 'follow' | 'timestamps' | 'searchNext' | 'searchPrev';

export const COMMAND_HELP: Record<Command, string> = {
  quit: 'quit', help: 'this help', up: 'move up / scroll up', down: 'move down / scroll down',
  pageUp: 'page up', pageDown: 'page down', top: 'first row / oldest line', bottom: 'last row / follow tail',
  tabNext: 'next tab', tabPrev: 'previous tab', tab1: 'Containers tab', tab2: 'Pods tab', tab3: 'Root filesystems tab',
  focus: 'switch focus list <-> journal', filter: 'filter rows (list) / search (journal)',
  sort: 'cycle sort column', sortReverse: 'reverse sort', start: 'start', stop: 'stop (again: terminate, then kill)',
  restart: 'restart', remove: 'remove (type the name to confirm)', enable: 'enable at boot', disable: 'disable at boot',
  mark: 'mark row for bulk actions', markAll: 'mark all / none', shell: 'shell into container (machinectl shell)',
  new: 'new container wizard', detail: 'switch detail / journal (narrow terminals)', refresh: 're-list everything',
  follow: 'journal: follow on/off', timestamps: 'journal: timestamps on/off',
  searchNext: 'journal: next (older) match', searchPrev: 'journal: previous (newer) match',
};

export const DEFAULT_KEYS: Record<Command, string[]> = {
  quit: ['q', 'ctrl+c'], help: ['?'], up: ['up', 'k'], down: ['down', 'j'], pageUp: ['pageup', 'ctrl+b'],
  pageDown: ['pagedown', 'ctrl+f'], top: ['home', 'g'], bottom: ['end', 'G'], tabNext: ['right', ']'],
  tabPrev: ['left', '['], tab1: ['1'], tab2: ['2'], tab3: ['3'], focus: ['tab'], filter: ['/'], sort: ['o'],
  sortReverse: ['O'], start: ['s'], stop: ['x'], restart: ['r'], remove: ['D'], enable: ['e'], disable: ['E'],
  mark: ['space'], markAll: ['a'], shell: ['c'], new: ['n'], detail: ['d'], refresh: ['R'], follow: ['f'],
  timestamps: ['t'], searchNext: ['n'], searchPrev: ['N'],
};

/** Canonical key name of an Ink input event. */
export function keyName(input: string, key: Key): string {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  // Ink 6.8 reports 0x7f (Backspace) as delete
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input) return `ctrl+${input}`;
  if (input === ' ') return 'space';
  return input;
}

/** Canonical name of one raw character (for chunks split by keyNames). */
function charName(ch: string): string {
  if (ch === '\r' || ch === '\n') return 'enter';
  if (ch === '\x7f' || ch === '\b') return 'backspace';
  if (ch === '\t') return 'tab';
  if (ch === ' ') return 'space';
  const c = ch.codePointAt(0)!;
  if (c >= 1 && c <= 26) return `ctrl+${String.fromCharCode(c + 96)}`;
  return ch;
}

/**
 * Key names of one input event. Ink delivers a run of plain characters read
 * in one chunk (fast typing, paste, tmux send-keys) as a single event: it is
 * split into one key per character so none is dropped.
 */
export function keyNames(input: string, key: Key): string[] {
  const chars = [...input];
  if (chars.length > 1 && !input.includes('\x1b') && !key.upArrow && !key.downArrow && !key.leftArrow && !key.rightArrow) {
    return chars.filter((ch) => ch !== '\0').map(charName);
  }
  return [keyName(input, key)];
}

export type Keymap = Map<string, Command[]>;

export function buildKeymap(overrides: Partial<Record<Command, string | string[]>> = {}): Keymap {
  const m: Keymap = new Map();
  for (const [cmd, keys] of Object.entries({ ...DEFAULT_KEYS, ...normalise(overrides) }) as [Command, string[]][]) {
    for (const k of keys) m.set(k, [...(m.get(k) ?? []), cmd]);
  }
  return m;
}

function normalise(o: Partial<Record<Command, string | string[]>>): Partial<Record<Command, string[]>> {
  const out: Partial<Record<Command, string[]>> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!(k in DEFAULT_KEYS)) throw new Error(`keys.json: unknown command '${k}'`);
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === 'string' && x.length > 0)) throw new Error(`keys.json: '${k}' needs a key name or a list of them`);
    out[k as Command] = list as string[];
  }
  return out;
}

export function keymapPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'sdme', 'keys.json');
}

/** Load the user keymap; a missing file means defaults. Errors are returned, not thrown. */
export function loadKeymap(path = keymapPath()): { keymap: Keymap; error?: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { keymap: buildKeymap() };
  }
  try {
    return { keymap: buildKeymap(JSON.parse(text)) };
  } catch (e) {
    return { keymap: buildKeymap(), error: `${path}: ${(e as Error).message}` };
  }
}

/** keys bound to a command, for help and hints */
export function keysFor(km: Keymap, cmd: Command): string[] {
  const out: string[] = [];
  for (const [k, cmds] of km) if (cmds.includes(cmd)) out.push(k);
  return out;
}
