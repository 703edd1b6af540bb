/**
 * Helpers for e2e files. These run INSIDE the sandbox host (npm run test:e2e =
 * `sdme sandbox run --bind-checkout -- npx vitest run --project e2e`), never on
 * the bare machine: call `inSandbox()` first (in beforeAll or at the top).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/native/run.js';

/** The project checkout this file belongs to (bind-mounted at the same path inside). */
export const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const SDME_BIN = join(CHECKOUT, 'bin/sdme.js');
export const DATADIR = '/var/lib/sdme';

export interface SdmeResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SdmeOptions {
  input?: string;
  /** default 120 s */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Runs the built CLI (`node CHECKOUT/bin/sdme.js ARGS`); never throws on a non-zero exit. */
export async function sdme(args: readonly string[], opts: SdmeOptions = {}): Promise<SdmeResult> {
  const r = await run(process.execPath, [SDME_BIN, ...args], {
    timeoutMs: opts.timeoutMs ?? 120_000,
    input: opts.input ?? '',
    env: opts.env,
    cwd: opts.cwd,
  });
  return { code: r.timedOut ? 124 : r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** `PREFIX-xxxxxx`: a valid, fresh container name; give each test file its own prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex').slice(0, 6)}`;
}

/** Names in the sdme state dir that start with prefix. */
export function containersWithPrefix(prefix: string, datadir = DATADIR): string[] {
  try {
    return readdirSync(join(datadir, 'state'))
      .filter((n) => n.startsWith(prefix) && !n.startsWith('.'))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Removes every container whose name starts with prefix (`sdme rm -f`, which
 * stops it first; a still-running unit is stopped with systemctl as a fallback).
 * Returns the names that could not be removed (empty when all went).
 */
export async function cleanupContainers(prefix: string): Promise<string[]> {
  for (const name of containersWithPrefix(prefix)) {
    const r = await sdme(['rm', '-f', name]);
    if (r.code !== 0) {
      await run('systemctl', ['stop', `sdme@${name}.service`], { timeoutMs: 60_000 });
      await run('systemctl', ['reset-failed', `sdme@${name}.service`], { timeoutMs: 10_000 });
      await sdme(['rm', '-f', name]);
    }
  }
  return containersWithPrefix(prefix);
}

/** Polls fn until it returns a truthy value (returned) or timeoutMs passes (throws with the last error). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, intervalMs = 100): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= until) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`waitFor: condition not met within ${timeoutMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Throws unless PID 1 is systemd: e2e tests must never run on the bare machine. */
export function inSandbox(): void {
  let comm = '';
  try {
    comm = readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    // unreadable: not a sandbox either
  }
  if (comm !== 'systemd') {
    throw new Error(
      `e2e tests must run inside the sandbox host (PID 1 here is '${comm || '?'}', not systemd): use npm run test:e2e`,
    );
  }
}
