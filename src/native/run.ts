/**
 * The one place child processes are started: execa with an explicit argv
 * array (never a shell string) and a timeout on every child.
 */
import { execa } from 'execa';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RunOptions {
  /** default 60 s; 0 = no timeout (only for interactive hand-offs) */
  timeoutMs?: number;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
  signal?: AbortSignal;
  /** inherit stdio (interactive commands); stdout/stderr are then empty */
  inherit?: boolean;
  /** stdout as Buffer instead of string */
  binary?: boolean;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** set when the process was killed by a signal or timed out */
  signal?: string;
  timedOut: boolean;
}

export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await execa(cmd, args, {
    reject: false,
    timeout: opts.timeoutMs === 0 ? undefined : (opts.timeoutMs ?? 60_000),
    input: opts.input,
    env: opts.env,
    extendEnv: true,
    cwd: opts.cwd,
    cancelSignal: opts.signal,
    stdio: opts.inherit ? 'inherit' : 'pipe',
    stripFinalNewline: false,
    encoding: 'utf8',
  });
  if (r.failed && r.exitCode === undefined && !r.signal && !r.timedOut && !r.isCanceled) {
    // spawn failure (ENOENT, EACCES)
    const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
    return { exitCode: 127, stdout: '', stderr: `${cmd}: ${code ?? r.shortMessage}`, timedOut: false };
  }
  return {
    exitCode: r.exitCode ?? (r.signal ? 128 : 1),
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    stderr: typeof r.stderr === 'string' ? r.stderr : '',
    signal: r.signal ?? undefined,
    timedOut: r.timedOut,
  };
}

/** Absolute path of an executable found on PATH (plus the sbin dirs root expects), or undefined. */
export function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return isExecutable(cmd) ? cmd : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const d of dirs) {
    const p = join(d, cmd);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface StreamOptions {
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  /** default 0 = no timeout: a stream lives until the consumer stops or `signal` aborts */
  timeoutMs?: number;
}

export interface StreamResult {
  exitCode: number;
  /** first 64 KiB of stderr */
  stderr: string;
  signal?: string;
  canceled: boolean;
}

export interface StreamHandle {
  /** stdout split on "\n" (newline removed); a final unterminated line is yielded too */
  lines(): AsyncGenerator<string>;
  /** settles when the child exits; never rejects */
  done: Promise<StreamResult>;
  kill(): void;
}

/** Start a long-running child and read its stdout line by line (journalctl -f and the like). */
export function spawnStream(cmd: string, args: readonly string[], opts: StreamOptions = {}): StreamHandle {
  const sub = execa(cmd, args, {
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: opts.env,
    extendEnv: true,
    cancelSignal: opts.signal,
    timeout: opts.timeoutMs ? opts.timeoutMs : undefined,
  });
  let stderr = '';
  sub.stderr?.setEncoding('utf8');
  sub.stderr?.on('data', (d: string) => {
    if (stderr.length < 65536) stderr += d;
  });
  const done: Promise<StreamResult> = Promise.resolve(sub).then(
    (r) => {
      if (r.failed && r.exitCode === undefined && !r.signal && !r.isCanceled && !r.timedOut) {
        const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
        return { exitCode: 127, stderr: `${cmd}: ${code ?? r.shortMessage}`, canceled: false };
      }
      return { exitCode: r.exitCode ?? 128, stderr, signal: r.signal ?? undefined, canceled: r.isCanceled };
    },
    (e: unknown) => ({ exitCode: 127, stderr: `${cmd}: ${String(e)}`, canceled: false }),
  );
  async function* lines(): AsyncGenerator<string> {
    const out = sub.stdout;
    if (!out) return;
    out.setEncoding('utf8');
    let buf = '';
    try {
      for await (const chunk of out as AsyncIterable<string>) {
        buf += chunk;
        let start = 0;
        let i: number;
        while ((i = buf.indexOf('\n', start)) >= 0) {
          yield buf.slice(start, i);
          start = i + 1;
        }
        buf = buf.slice(start);
      }
    } catch {
      // stream destroyed by kill/abort: end quietly, `done` carries the status
    }
    if (buf.length > 0) yield buf;
  }
  return {
    lines,
    done,
    kill: () => {
      sub.kill('SIGTERM');
    },
  };
}
