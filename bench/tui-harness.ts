/**
 * Shared pieces of the TUI benchmarks: a terminal-sized fake stdout/stdin and
 * the app mounted on a DemoPort, plus small stats helpers. Nothing here
 * touches the system (the DemoPort is a fake engine).
 */
import { EventEmitter } from 'node:events';
import React from 'react';
import { render, type Instance } from 'ink';
import { DemoPort, type DemoOptions } from '../src/state/demo-port.js';
import { AppController } from '../src/state/store.js';
import { createUiStore } from '../src/state/ui-store.js';
import { App } from '../src/ui/App.js';
import { buildKeymap } from '../src/ui/keymap.js';
import { ThemeContext, makeTheme } from '../src/components/theme.js';
import { FakeStdin } from '../test/ui/fakes.js';

export class BenchStdout extends EventEmitter {
  frames = 0;
  last = '';
  isTTY = true;
  private waiters: (() => void)[] = [];
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (s: string) => {
    // Ink wraps a frame in short synchronized-update escapes: count real output only
    if (s.length < 32) return true;
    this.frames++;
    this.last = s;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return true;
  };
  /** resolves at the next write */
  nextWrite(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
}


export interface Mounted {
  port: DemoPort;
  ctl: AppController;
  stdout: BenchStdout;
  stdin: FakeStdin;
  instance: Instance;
  close(): void;
}

/**
 * Mount the app at cols x rows on a DemoPort. debug=true renders every
 * change synchronously (one write per frame: what we time); debug=false is
 * the real throttled terminal mode.
 */
export async function mountApp(o: { cols: number; rows: number; demo?: DemoOptions; statsMs?: number; idleStatsMs?: number; idleAfterMs?: number; debug?: boolean; flushMs?: number }): Promise<Mounted> {
  const port = new DemoPort({ actionMs: 50, journalMs: 0, history: 20, ...o.demo });
  const ctl = new AppController(port, { statsMs: o.statsMs ?? 0, idleStatsMs: o.idleStatsMs, idleAfterMs: o.idleAfterMs });
  const ui = createUiStore();
  const stdout = new BenchStdout(o.cols, o.rows);
  const stdin = new FakeStdin();
  const el = React.createElement(
    ThemeContext.Provider,
    { value: makeTheme(process.env.BENCH_NO_COLOR ? { NO_COLOR: '1' } : {}) },
    React.createElement(App, {
      ctl,
      ui,
      keymap: buildKeymap(),
      keymapPath: '/dev/null',
      onQuit: () => undefined,
      onHandoff: () => undefined,
      flushMs: o.flushMs ?? 75,
      journalDebounceMs: 0,
    }),
  );
  const instance = render(el, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new BenchStdout(o.cols, o.rows) as unknown as NodeJS.WriteStream,
    debug: o.debug ?? true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  await ctl.start();
  await sleep(100);
  return {
    port,
    ctl,
    stdout,
    stdin,
    instance,
    close() {
      instance.unmount();
      ctl.stop();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const fmt = (n: number, d = 2) => n.toFixed(d);
