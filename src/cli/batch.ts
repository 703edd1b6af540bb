/**
 * Multi-target loop shared by start/stop/restart/rm/enable/disable
 * (lifecycle.md §12): `VERB 'N'` to stderr before each item, `N` to stdout
 * after success, `error: N: msg` on failure; keeps going past failures,
 * stops after the current item when interrupted, and ends with
 * "some containers could not be PAST" if anything failed.
 */
import { InterruptedError, SdmeError, checkInterrupt, isSdmeError } from '../engine/errors.js';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface BatchOptions {
  /** present participle printed before each item: `starting` */
  verb: string;
  /** past participle for the final error: `started` */
  past: string;
  /** input -> container name (prefix resolution); errors are collected */
  resolve(input: string): Promise<string>;
  action(name: string): Promise<void>;
  io: Io;
  signal?: AbortSignal;
  /** print stacks of unexpected errors */
  verbose?: boolean;
  /** noun for the final error message */
  noun?: string;
}

/** Returns the names that succeeded; throws SdmeError if any item failed. */
export async function runBatch(inputs: readonly string[], opts: BatchOptions): Promise<string[]> {
  const done: string[] = [];
  let failed = 0;
  for (const input of inputs) {
    checkInterrupt(opts.signal);
    let name: string;
    try {
      name = await opts.resolve(input);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      opts.io.err(`error: ${input}: ${errorText(e, opts.verbose)}`);
      failed++;
      continue;
    }
    opts.io.err(`${opts.verb} '${name}'`);
    try {
      await opts.action(name);
      opts.io.out(name);
      done.push(name);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      opts.io.err(`error: ${name}: ${errorText(e, opts.verbose)}`);
      failed++;
    }
    // stop after the current item when interrupted
    checkInterrupt(opts.signal);
  }
  if (failed > 0) throw new SdmeError(`some ${opts.noun ?? 'containers'} could not be ${opts.past}`);
  return done;
}

/** One-line text for a user error; a bug keeps its stack in verbose mode. */
export function errorText(e: unknown, verbose = false): string {
  if (isSdmeError(e)) return e.message;
  if (e instanceof Error) return verbose && e.stack ? e.stack : e.message;
  return String(e);
}
