/**
 * `sdme` entry point: global options, the root check, signal handling and
 * the error policy (SdmeError -> `Error: msg` + its exit code; anything else
 * is a bug and prints its stack).
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { getuid } from '../native/libc.js';
import { InterruptedError, isSdmeError } from '../engine/errors.js';
import { makeApp, type CliApp } from './app.js';
import { registerContainerCommands } from './containers.js';
import { registerConfigCommands } from './config.js';
import { registerFsCommands } from './fs.js';
import { registerPodCommands } from './pods.js';
import { registerSandboxCommands } from './sandbox.js';

/** Commands that run without root. */
const NO_ROOT = new Set(['config completions', 'config apparmor-profile']);

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function commandPath(cmd: Command): string {
  const parts: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) parts.unshift(c.name());
  return parts.join(' ');
}

export function buildProgram(signal: AbortSignal): { program: Command; app: CliApp } {
  const program = new Command('sdme');
  const app = makeApp(program, signal);
  program
    .description('daemonless manager for systemd-nspawn containers')
    .option('-v, --verbose', 'extra diagnostics on stderr; disables prompts')
    .option('--config <path>', 'config file (default /etc/sdme.conf)')
    .version(version(), '--version', 'print the version')
    .enablePositionalOptions()
    .hook('preAction', (_root, action) => {
      app.current = action;
      const path = commandPath(action);
      if ([...NO_ROOT].some((p) => path === p || path.startsWith(`${p} `))) return;
      if (getuid() !== 0) {
        process.stderr.write('Error: sdme must be run as root\n');
        process.exit(1);
      }
    });
  registerContainerCommands(program, app);
  registerConfigCommands(program, app);
  registerFsCommands(program, app);
  registerPodCommands(program, app);
  registerSandboxCommands(program, app);
  addGlobalOptionsEverywhere(program);
  return { program, app };
}

/**
 * Positional options (needed so `exec NAME CMD --flag` passes --flag through)
 * make commander accept global options only before the subcommand; accept
 * -v/--config after it too by adding hidden copies to every subcommand.
 */
function addGlobalOptionsEverywhere(cmd: Command): void {
  for (const sub of cmd.commands) {
    if (!sub.options.some((o) => o.long === '--verbose' || o.short === '-v')) {
      sub.addOption(new Option('-v, --verbose').hideHelp());
    }
    if (!sub.options.some((o) => o.long === '--config')) sub.addOption(new Option('--config <path>').hideHelp());
    addGlobalOptionsEverywhere(sub);
  }
}

export async function main(argv: string[]): Promise<void> {
  const ac = new AbortController();
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (received) {
      // second signal: default action
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
      return;
    }
    received = sig;
    ac.abort(new InterruptedError(sig));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const { program, app } = buildProgram(ac.signal);
  let code = 0;
  try {
    await program.parseAsync(argv);
    code = app.exitCode ?? 0;
    if (received && !app.handedOff) throw new InterruptedError(received);
  } catch (e) {
    code = reportError(e, received, app);
  }
  await flush();
  process.exit(code);
}

function reportError(e: unknown, received: 'SIGINT' | 'SIGTERM' | undefined, app: CliApp): number {
  if (e instanceof InterruptedError || (received && isAbortError(e))) {
    process.stderr.write('interrupted, exiting\n');
    return received === 'SIGTERM' ? 143 : 130;
  }
  if (isSdmeError(e)) {
    process.stderr.write(`Error: ${e.message}\n`);
    if (app.verbose() && e.cause instanceof Error && e.cause.stack) process.stderr.write(`${e.cause.stack}\n`);
    return e.exitCode;
  }
  // a bug: keep the stack
  process.stderr.write(`${e instanceof Error && e.stack ? e.stack : String(e)}\n`);
  return 1;
}

function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as { isCanceled?: boolean }).isCanceled === true);
}

function flush(): Promise<void> {
  return new Promise((resolve) => {
    let pending = 2;
    const done = () => {
      if (--pending === 0) resolve();
    };
    process.stdout.write('', done);
    process.stderr.write('', done);
  });
}
