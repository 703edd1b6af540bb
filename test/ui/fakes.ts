/**
 * Test fakes for the TUI: a terminal-sized fake stdout, a fake stdin, and a
 * fake engine port (the DemoPort with fast actions and no live log ticker).
 */
import { EventEmitter } from 'node:events';
import React from 'react';
import { render, type Instance } from 'ink';
import { DemoPort, type DemoOptions } from '../../src/state/demo-port.js';
import { AppController } from '../../src/state/store.js';
import { createUiStore } from '../../src/state/ui-store.js';
import { App } from '../../src/ui/App.js';
import { buildKeymap } from '../../src/ui/keymap.js';
import { ThemeContext, makeTheme, type Theme } from '../../src/components/theme.js';
import type { CommandArgv } from '../../src/state/engine-port.js';

export class FakeStdout extends EventEmitter {
  frames: string[] = [];
  isTTY = false;
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (frame: string) => {
    this.frames.push(frame);
    return true;
  };
  lastFrame(): string {
    return this.frames[this.frames.length - 1] ?? '';
  }
  resize(cols: number, rows: number): void {
    this.columns = cols;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write(data: string): void {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
}

export function fakePort(opts: DemoOptions = {}): DemoPort {
  return new DemoPort({ actionMs: 30, journalMs: 0, history: 5, now: () => 1_700_000_000_000, ...opts });
}

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  enter: '\r',
  escape: '\x1b',
  backspace: '\x7f',
  tab: '\t',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
};

export interface Harness {
  port: DemoPort;
  ctl: AppController;
  ui: ReturnType<typeof createUiStore>;
  stdout: FakeStdout;
  stdin: FakeStdin;
  instance: Instance;
  quits: number;
  handoffs: CommandArgv[];
  frame(): string;
  press(...keys: string[]): Promise<void>;
  waitFor(pred: (frame: string) => boolean, ms?: number): Promise<string>;
  cleanup(): void;
}

export const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

export async function renderApp(cols: number, rows: number, opts: { port?: DemoPort; theme?: Theme } = {}): Promise<Harness> {
  const port = opts.port ?? fakePort();
  const ctl = new AppController(port, { statsMs: 0, now: () => 1_700_000_000_000 });
  const ui = createUiStore();
  const stdout = new FakeStdout(cols, rows);
  const stdin = new FakeStdin();
  const h: Partial<Harness> = { port, ctl, ui, stdout, stdin, quits: 0, handoffs: [] };
  const el = React.createElement(
    ThemeContext.Provider,
    { value: opts.theme ?? makeTheme({}) },
    React.createElement(App, {
      ctl,
      ui,
      keymap: buildKeymap(),
      keymapPath: '/tmp/keys.json',
      onQuit: () => void (h.quits! += 1),
      onHandoff: (a: CommandArgv) => void h.handoffs!.push(a),
      flushMs: 5,
      journalDebounceMs: 0,
    }),
  );
  h.instance = render(el, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new FakeStdout(cols, rows) as unknown as NodeJS.WriteStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  h.frame = () => stdout.lastFrame();
  h.press = async (...keys: string[]) => {
    for (const k of keys) {
      stdin.write(k);
      await tick(15);
    }
    await tick(30);
  };
  h.waitFor = async (pred, ms = 2000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (pred(stdout.lastFrame())) return stdout.lastFrame();
      await tick(10);
    }
    throw new Error(`waitFor timed out; last frame:\n${stdout.lastFrame()}`);
  };
  h.cleanup = () => {
    h.instance!.unmount();
    ctl.stop();
  };
  await ctl.start();
  await tick(30);
  return h as Harness;
}

/** strip SGR so frames can be compared as text */
export function plain(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '');
}
