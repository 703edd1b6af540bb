/**
 * `sdme sandbox up|run|shell|down|status`: the disposable systemd host that
 * the e2e suite runs in (engine/sandbox). Notes go to stderr, results to stdout.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { SdmeError } from '../engine/errors.js';
import {
  DEFAULT_SANDBOX_NAME,
  sandboxDown,
  sandboxRun,
  sandboxShell,
  sandboxStatus,
  sandboxUp,
  type SandboxInfo,
} from '../engine/sandbox/sandbox.js';

/** The parts of the CLI app this group uses (see cli/app.ts). */
export interface SandboxCliApp {
  signal: AbortSignal;
  exitCode?: number;
  handedOff: boolean;
  /** -v: also say what was a no-op */
  verbose?(): boolean;
}

/** The project checkout this CLI runs from (dist/cli/ or src/cli/ -> ../../). */
export function checkoutRoot(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
  if (!existsSync(`${root}/package.json`)) throw new SdmeError(`--bind-checkout: no project checkout at ${root}`);
  return root;
}

function defaultName(): string {
  return process.env.SDME_SANDBOX_NAME || DEFAULT_SANDBOX_NAME;
}

const note = (m: string) => void process.stderr.write(`${m}\n`);

function nameOption(): Option {
  return new Option('--name <name>', 'sandbox name (default $SDME_SANDBOX_NAME or sdme-sandbox)');
}

function rootfsOption(): Option {
  return new Option('--rootfs <kind>', "root to clone: the machine's own or a cached debootstrap one").choices([
    'host',
    'debootstrap',
  ]);
}

function timeoutMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) === 0) throw new SdmeError(`--timeout: expected a number of seconds, got '${v}'`);
  return Number(v) * 1000;
}

/** cwd inside: the caller's own when the clone can see it, else the checkout or /. */
function innerCwd(explicit: string | undefined, rootfs: string, checkout: string): string {
  if (explicit) return explicit;
  const here = process.cwd();
  if (checkout && (here === checkout || here.startsWith(`${checkout}/`))) return here;
  if (rootfs === 'host') return here;
  return checkout || '/';
}

export function formatStatus(s: SandboxInfo): string {
  const rows: [string, string][] = [
    ['name', s.name],
    ['state', s.state],
  ];
  if (s.leaderPid !== null) rows.push(['leader', `${s.leaderPid} (systemd-nspawn ${s.nspawnPid})`]);
  if (s.systemdVersion !== null) rows.push(['systemd', s.systemdVersion]);
  if (s.uptimeSec !== null) rows.push(['uptime', `${s.uptimeSec}s`]);
  if (s.rootfs !== null) rows.push(['rootfs', s.rootfs]);
  if (s.checkout !== null) rows.push(['checkout', s.checkout]);
  rows.push(['dir', s.dir]);
  return rows.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`).join('\n');
}

export function statusJson(s: SandboxInfo): Record<string, unknown> {
  return {
    name: s.name,
    state: s.state,
    nspawn_pid: s.nspawnPid,
    leader_pid: s.leaderPid,
    systemd_version: s.systemdVersion,
    uptime_s: s.uptimeSec,
    rootfs: s.rootfs,
    checkout: s.checkout,
    dir: s.dir,
  };
}

/**
 * Registers `sandbox` on program. Pass the CLI app so `sandbox run` can hand
 * its exit code to main; without it the code is set by exiting directly.
 */
export function registerSandboxCommands(program: Command, app?: SandboxCliApp): void {
  const signal = () => app?.signal;
  const setExit = async (code: number) => {
    if (app) {
      app.exitCode = code;
      return;
    }
    await new Promise<void>((r) => process.stdout.write('', () => r()));
    process.exit(code);
  };

  const sb = program
    .command('sandbox')
    .description('disposable systemd host (overlay clone of / booted with systemd-nspawn) for e2e tests');

  /** `up` and `run` bring the sandbox up from the same options. */
  const bringUp = (name: string, o: { bindCheckout?: boolean; rootfs?: 'host' | 'debootstrap'; timeout?: string }) =>
    sandboxUp({
      name,
      bindCheckout: o.bindCheckout ? checkoutRoot() : undefined,
      rootfs: o.rootfs,
      timeoutMs: timeoutMs(o.timeout),
      note,
      signal: signal(),
    });

  sb.command('up')
    .description('boot the sandbox (no-op when it is already up)')
    .addOption(nameOption())
    .option('--bind-checkout', "bind this project's checkout at the same path inside")
    .addOption(rootfsOption())
    .option('--timeout <secs>', 'boot timeout in seconds (default 60)')
    .action(async (o: { name?: string; bindCheckout?: boolean; rootfs?: 'host' | 'debootstrap'; timeout?: string }) => {
      const name = o.name ?? defaultName();
      const r = await bringUp(name, o);
      if (r.started) note(`sandbox '${name}' is up (leader pid ${r.record.leaderPid}, booted in ${(r.bootMs / 1000).toFixed(1)} s)`);
      else note(`sandbox '${name}' is already up (leader pid ${r.record.leaderPid})`);
      process.stdout.write(`${name}\n`);
    });

  sb.command('run')
    .description('run a command inside (brings the sandbox up first if needed, and down after unless --keep)')
    .addOption(nameOption())
    .option('--bind-checkout', "bind this project's checkout at the same path inside")
    .addOption(rootfsOption())
    .option('--keep', 'leave a sandbox this command brought up running')
    .option('--cwd <dir>', 'working directory inside (default: the current one)')
    .option('--timeout <secs>', 'boot timeout in seconds (default 60)')
    .argument('<command...>', 'command and arguments (after --)')
    .action(
      async (
        argv: string[],
        o: { name?: string; bindCheckout?: boolean; rootfs?: 'host' | 'debootstrap'; keep?: boolean; cwd?: string; timeout?: string },
      ) => {
        const name = o.name ?? defaultName();
        const up = await bringUp(name, o);
        if (up.started) note(`sandbox '${name}' is up (booted in ${(up.bootMs / 1000).toFixed(1)} s)`);
        else if (app?.verbose?.()) note(`sandbox '${name}' is already up (leader pid ${up.record.leaderPid})`);
        let code: number;
        try {
          if (app) app.handedOff = true;
          code = await sandboxRun(argv, { name, cwd: innerCwd(o.cwd, up.record.rootfs, up.record.checkout) });
        } finally {
          if (app) app.handedOff = false;
          if (up.started && !o.keep) {
            const t0 = Date.now();
            await sandboxDown({ name, note });
            note(`sandbox '${name}' is down (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
          }
        }
        await setExit(code);
      },
    );

  sb.command('shell')
    .description('interactive shell inside a running sandbox')
    .addOption(nameOption())
    .option('--cwd <dir>', 'working directory inside (default: the current one)')
    .action(async (o: { name?: string; cwd?: string }) => {
      const name = o.name ?? defaultName();
      const s = await sandboxStatus({ name });
      if (app) app.handedOff = true;
      try {
        const code = await sandboxShell({ name, cwd: innerCwd(o.cwd, s.rootfs ?? 'host', s.checkout ?? '') });
        await setExit(code);
      } finally {
        if (app) app.handedOff = false;
      }
    });

  sb.command('down')
    .description('power the sandbox off and remove its mounts, processes and state dir (idempotent)')
    .addOption(nameOption())
    .action(async (o: { name?: string }) => {
      const name = o.name ?? defaultName();
      const t0 = Date.now();
      const was = await sandboxDown({ name, note });
      note(was ? `sandbox '${name}' is down (${((Date.now() - t0) / 1000).toFixed(1)} s)` : `sandbox '${name}' was not up`);
    });

  sb.command('status')
    .description('state, leader pid, systemd version and uptime of a sandbox')
    .addOption(nameOption())
    .option('--json', 'print JSON')
    .action(async (o: { name?: string; json?: boolean }) => {
      const s = await sandboxStatus({ name: o.name ?? defaultName() });
      process.stdout.write(`${o.json ? JSON.stringify(statusJson(s), null, 2) : formatStatus(s)}\n`);
    });
}
