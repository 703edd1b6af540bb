/**
 * sdme-tui entry: parses argv, builds the port (real engine or --demo fake),
 * enters the alternate screen, renders the Ink app at exactly `rows` lines and
 * restores the terminal on every exit path. The shell hand-off unmounts Ink,
 * leaves the alternate screen, runs the child with inherited stdio, then
 * remounts (UI state lives in a store, so nothing is lost).
 */
import { readFileSync } from 'node:fs';
import React from 'react';
import { render, type Instance } from 'ink';
import { AppController } from '../state/store.js';
import { createUiStore } from '../state/ui-store.js';
import type { CommandArgv, EnginePort } from '../state/engine-port.js';
import { DemoPort } from '../state/demo-port.js';
import { ThemeContext, makeTheme } from '../components/theme.js';
import { App } from './App.js';
import { keymapPath, loadKeymap } from './keymap.js';
import { holdInput, installScreen } from './screen.js';

export const HELP = `Usage: sdme-tui [options]

Terminal UI for sdme containers (systemd-nspawn).

Options:
  --demo           run against a built-in fake engine (no root, nothing touched);
                   useful to try the UI, for screenshots and for benchmarks
  --config PATH    sdme config file (default /etc/sdme.conf)
  --no-sandbox     on a machine whose PID 1 is not systemd, do not boot the
                   sandbox host (the engine then has no systemd to talk to)
  -h, --help       show this help
  --version        print the version

Keys: press ? inside the app. Key bindings can be overridden in
  \$XDG_CONFIG_HOME/sdme/keys.json (default ~/.config/sdme/keys.json), e.g.
  {"quit": ["q", "ctrl+q"], "shell": "enter"}
Colours follow the terminal's default foreground; NO_COLOR=1 disables colour.
Needs a terminal of at least 60x15.

On a machine whose PID 1 is not systemd (a container, a CI runner), sdme-tui
boots the sdme sandbox host (\`sdme sandbox up\`: a systemd booted with
systemd-nspawn, name \$SDME_SANDBOX_NAME or sdme-sandbox) and runs inside it.
The sandbox stays up after you quit, so containers keep running between runs;
stop it with \`sdme sandbox down\`.
`;

/** PID 1's command name ('' when unreadable). */
export function pid1Comm(procRoot = '/proc'): string {
  try {
    return readFileSync(`${procRoot}/1/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Whether to boot the sandbox host and run inside it (pure). */
export function wantsSandbox(o: { demo: boolean; inSandbox: boolean; noSandbox: boolean; pid1: string; env: Record<string, string | undefined> }): boolean {
  if (o.demo || o.inSandbox || o.noSandbox || o.env.SDME_SANDBOX) return false;
  return o.pid1 !== 'systemd';
}

/**
 * Boot the sandbox host (kept up afterwards) and run this TUI inside it with
 * the terminal inherited. Resolves with the inner TUI's exit code.
 */
export async function runInSandbox(args: string[], stderr: NodeJS.WriteStream): Promise<number> {
  const { sandboxUp, sandboxRun, DEFAULT_SANDBOX_NAME } = await import('../engine/sandbox/sandbox.js');
  const { checkoutRoot } = await import('../cli/sandbox.js');
  const name = process.env.SDME_SANDBOX_NAME || DEFAULT_SANDBOX_NAME;
  const checkout = checkoutRoot();
  const note = (m: string) => void stderr.write(`sdme-tui: ${m}\n`);
  note(`PID 1 is not systemd here: running inside the sdme sandbox host '${name}' (sdme sandbox up)`);
  const up = await sandboxUp({ name, bindCheckout: checkout, note });
  if (up.started) note(`sandbox '${name}' is up (booted in ${(up.bootMs / 1000).toFixed(1)} s)`);
  // the host clone has this node at the same path; a debootstrap root has its own on PATH
  const node = up.record.rootfs === 'host' ? process.execPath : 'node';
  const code = await sandboxRun([node, `${checkout}/bin/sdme-tui.js`, '--in-sandbox', ...args], { name, cwd: checkout });
  note(`the sandbox '${name}' is still up (its containers keep running); stop it with: sdme sandbox down --name ${name}`);
  return code;
}

export interface MainIo {
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const stdin = io.stdin ?? process.stdin;
  const args = argv.slice(2);
  let demo = false;
  let inSandbox = false;
  let noSandbox = false;
  let configPath: string | undefined;
  const passthrough: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') {
      stdout.write(HELP);
      return 0;
    } else if (a === '--version') {
      stdout.write('sdme-tui 0.1.0\n');
      return 0;
    } else if (a === '--demo') demo = true;
    else if (a === '--in-sandbox') inSandbox = true;
    else if (a === '--no-sandbox') noSandbox = true;
    else if (a === '--config') {
      configPath = args[++i];
      passthrough.push(a, configPath ?? '');
    } else if (a.startsWith('--config=')) {
      configPath = a.slice('--config='.length);
      passthrough.push(a);
    }
    else {
      stderr.write(`Error: unknown argument '${a}' (see --help)\n`);
      process.exitCode = 2;
      return 2;
    }
  }
  if (!stdout.isTTY || !stdin.isTTY) {
    stderr.write('Error: sdme-tui needs a terminal (stdin and stdout must be a TTY)\n');
    process.exitCode = 1;
    return 1;
  }

  if (wantsSandbox({ demo, inSandbox, noSandbox, pid1: pid1Comm(), env: process.env })) {
    try {
      const code = await runInSandbox(passthrough, stderr);
      process.exitCode = code;
      return code;
    } catch (e) {
      stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
      return 1;
    }
  }

  let port: EnginePort;
  try {
    if (demo) port = new DemoPort();
    else {
      const { createEngineAdapter } = await import('../state/engine-adapter.js');
      port = await createEngineAdapter({ configPath });
    }
  } catch (e) {
    stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
    return 1;
  }

  const { keymap, error: kmError } = loadKeymap();
  const ctl = new AppController(port);
  const ui = createUiStore();
  const theme = makeTheme();

  let instance: Instance | null = null;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const finish = (code: number, err?: unknown) => {
    try {
      instance?.unmount();
    } catch {
      /* already gone */
    }
    instance = null;
    ctl.stop();
    screen.dispose();
    if (err) stderr.write(`sdme-tui crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = code;
    resolveDone(code);
    // timers of the port (journal followers) must not keep us alive
    setTimeout(() => process.exit(code), 200).unref();
  };
  const screen = installScreen(stdout, (code, err) => finish(code, err));

  const mount = () => {
    screen.enter();
    instance = render(
      React.createElement(
        ThemeContext.Provider,
        { value: theme },
        React.createElement(App, { ctl, ui, keymap, keymapPath: keymapPath(), onQuit: () => finish(0), onHandoff: (a: CommandArgv) => void handoff(a) }),
      ),
      { stdout, stdin, stderr, exitOnCtrlC: false, patchConsole: false },
    );
  };

  const handoff = async (argv: CommandArgv) => {
    instance?.unmount();
    instance = null;
    // a child owns the terminal now: this process must not read it
    const releaseInput = holdInput(stdin);
    screen.leave();
    screen.handingOff = true;
    stdout.write(`\n[sdme-tui] ${argv.cmd} ${argv.args.join(' ')} — exit the shell to return\n`);
    let code = 0;
    try {
      code = await port.runInteractive(argv);
    } catch (e) {
      ctl.setStatus(`${argv.cmd}: ${e instanceof Error ? e.message : String(e)}`, 'error');
    } finally {
      screen.handingOff = false;
    }
    if (code !== 0) ctl.setStatus(`${argv.cmd} ${argv.args.join(' ')} exited with ${code}`, 'error');
    releaseInput();
    mount();
  };

  mount();
  if (kmError) ctl.setStatus(kmError, 'error');
  void ctl.start();
  return done;
}
