/**
 * What every command action gets: the output channels, the interrupt signal,
 * a lazily built engine Ctx (config read once, after global options are
 * parsed), and a place to put the process exit code.
 */
import type { Command } from 'commander';
import { makeCtx, type Ctx } from '../engine/context.js';
import type { Io } from './batch.js';

export interface CliApp {
  io: Io;
  signal: AbortSignal;
  /** the engine context for the current invocation */
  ctx(): Promise<Ctx>;
  /** exit code chosen by a command (exec/join/logs forward the child's) */
  exitCode?: number;
  /** true while a child owns the terminal: interrupts are the child's business */
  handedOff: boolean;
  /** the command whose action runs (set by the preAction hook) */
  current?: Command;
  verbose(): boolean;
  /** prompts only when config.interactive, stdin is a TTY and -v is absent */
  interactive(): Promise<boolean>;
  /** ask a yes/no question on stderr; def = answer on empty input */
  confirm(question: string, def: boolean): Promise<boolean>;
}

export const stdIo: Io = {
  out: (line) => void process.stdout.write(line.endsWith('\n') ? line : `${line}\n`),
  err: (line) => void process.stderr.write(line.endsWith('\n') ? line : `${line}\n`),
};

export function makeApp(program: Command, signal: AbortSignal, io: Io = stdIo): CliApp {
  let cached: Promise<Ctx> | undefined;
  const app: CliApp = {
    io,
    signal,
    handedOff: false,
    verbose: () => program.opts().verbose === true || inherited(app.current, 'verbose') === true,
    ctx() {
      cached ??= makeCtx({
        configPath: ((program.opts().config as string | undefined) ?? inherited(app.current, 'config')) as
          | string
          | undefined,
        verbose: app.verbose(),
        note: (m) => io.err(m),
        signal,
      });
      return cached;
    },
    async interactive() {
      if (app.verbose() || !process.stdin.isTTY) return false;
      return (await app.ctx()).config.interactive;
    },
    async confirm(question, def) {
      process.stderr.write(`${question} `);
      const answer = await readLine();
      const a = answer.trim().toLowerCase();
      if (a === '') return def;
      return a === 'y' || a === 'yes';
    },
  };
  return app;
}

/** Value of a (hidden, repeated) global option on cmd or any ancestor. */
function inherited(cmd: Command | undefined, key: string): unknown {
  for (let c = cmd; c; c = c.parent ?? undefined) {
    const v = c.opts()[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** One line from stdin (for prompts). */
async function readLine(): Promise<string> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, terminal: false });
  try {
    return await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
  } finally {
    rl.close();
  }
}
