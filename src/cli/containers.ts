/**
 * Container commands: create, new, start, stop, restart, rm, exec, join,
 * logs, ps, enable, disable, set, inspect. Each action resolves names, calls
 * the engine, and prints per cli-surface.md (progress to stderr, names to
 * stdout).
 */
import { Option, type Command } from 'commander';
import { listStateNames, readState, resolveName } from '../engine/catalogue/container-state.js';
import { unitName } from '../engine/catalogue/paths.js';
import type { Ctx } from '../engine/context.js';
import { createContainer } from '../engine/containers/create.js';
import { disableContainer, enableContainer } from '../engine/containers/enable.js';
import { containerLogs, execInContainer, joinContainer } from '../engine/containers/exec.js';
import { listContainers, statusFromActiveState } from '../engine/containers/list.js';
import { removeContainer } from '../engine/containers/rm.js';
import { setLimits } from '../engine/containers/set.js';
import { startContainer } from '../engine/containers/start.js';
import { stopContainer, type StopMode } from '../engine/containers/stop.js';
import { SdmeError } from '../engine/errors.js';
import { formatIsolationTable, inspectContainer } from '../engine/security/inspect.js';
import { inspectBindHosts } from '../engine/security/bind-hosts.js';
import { createFlagsToState } from '../engine/security/create-flags.js';
import { gatherCreateHostFacts } from '../engine/containers/host-facts.js';
import { SystemdClient } from '../engine/systemd/dbus.js';
import type { ContainerState, ContainerStatus } from '../engine/types.js';
import type { CliApp } from './app.js';
import { runBatch } from './batch.js';
import { addCreateOptions, collectCreateFlags, parseTimeout, type CliCreateFlags } from './create-flags.js';
import { confirmAll } from './fs.js';
import { formatJson, formatPsTable, pickFormat } from './ps-format.js';

/** One D-Bus connection for a whole command. */
async function withClient<T>(fn: (c: SystemdClient) => Promise<T>): Promise<T> {
  const c = await SystemdClient.connect();
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Status of every container (one ListUnitsByPatterns). */
async function statuses(ctx: Ctx, client: SystemdClient): Promise<Map<string, ContainerStatus>> {
  const names = await listStateNames(ctx.layout);
  const units = await client.unitActiveStates(['sdme@*.service']);
  return new Map(names.map((n) => [n, statusFromActiveState(units.get(unitName(n)))]));
}

/** Targets of a batch command: names as given, or --all filtered by status. */
async function targets(
  ctx: Ctx,
  client: SystemdClient,
  names: string[],
  all: boolean | undefined,
  pick: (s: ContainerStatus) => boolean,
): Promise<string[]> {
  if (all && names.length > 0) throw new SdmeError('give container names or --all, not both');
  if (!all) {
    if (names.length === 0) throw new SdmeError('no container given (use NAME... or --all)');
    return names;
  }
  return [...(await statuses(ctx, client))].filter(([, s]) => pick(s)).map(([n]) => n);
}

/** CLI flags -> validated state via the shared engine validation; notes printed. */
async function flagsToState(ctx: Ctx, client: SystemdClient, flags: CliCreateFlags): Promise<ContainerState> {
  const r = createFlagsToState(flags, ctx.config, await gatherCreateHostFacts(ctx, client, flags));
  for (const n of r.notes) ctx.note(n);
  if (r.storage === 'btrfs') throw new SdmeError('btrfs storage is not supported by this sdme (use --storage overlay)');
  if (r.disk !== undefined) ctx.note('warning: --disk only applies to btrfs storage; ignored for overlay');
  if (r.usernsNested > 0) throw new SdmeError('--userns-nested is not supported yet');
  if (r.ociEnv.length > 0) throw new SdmeError('--oci-env is not supported yet (no OCI app support in create)');
  // missing bind sources are refused before `creating 'N'` is printed (create checks again)
  await inspectBindHosts(r.state.binds);
  return r.state;
}

export function registerContainerCommands(program: Command, app: CliApp): void {
  // ---------------------------------------------------------------- create
  addCreateOptions(program.command('create').description('create a container'), 'create').action(
    async (o: Record<string, unknown>) => {
      const ctx = await app.ctx();
      const flags = collectCreateFlags(o);
      const timeout = parseTimeout(o.timeout);
      if (timeout !== undefined && o.started !== true) throw new SdmeError('-t/--timeout is only valid with --started');
      await withClient(async (client) => {
        const state = await flagsToState(ctx, client, flags);
        const name = await createNamed(ctx, app, state, client);
        if (flags.enable) await enableContainer(ctx, name, { client });
        if (o.started === true) await startOrRemove(ctx, app, name, timeout, client);
        app.io.out(name);
      });
    },
  );

  // ---------------------------------------------------------------- new
  addCreateOptions(
    program
      .command('new')
      .description('create, start and join a container')
      .argument('[cmd...]', 'command to run instead of a shell (after --)'),
    'new',
  ).action(async (cmd: string[], o: Record<string, unknown>) => {
    const ctx = await app.ctx();
    const flags = collectCreateFlags(o);
    const timeout = parseTimeout(o.timeout);
    await withClient(async (client) => {
      const state = await flagsToState(ctx, client, flags);
      if (state.rootfs === '' && flags.hardened) {
        ctx.note('note: --hardened host clone: the private network has no internet access');
        ctx.note('note: --hardened host clone: sudo does not work (no new privileges)');
      }
      const name = await createNamed(ctx, app, state, client);
      if (flags.enable) await enableContainer(ctx, name, { client });
      await startOrRemove(ctx, app, name, timeout, client);
      app.io.out(name);
      app.handedOff = true;
      const code = await joinContainer(ctx, name, cmd, { user: o.user as string | undefined, client });
      app.handedOff = false;
      if (code !== 0) {
        app.io.err(`join failed (exit code ${code}), removing '${name}'`);
        await removeContainer(ctx, name, { client });
        app.exitCode = code;
      }
    });
  });

  // ---------------------------------------------------------------- start
  program
    .command('start')
    .description('start containers and wait for them to boot')
    .argument('[names...]')
    .option('-a, --all', 'all stopped containers')
    .option('-t, --timeout <seconds>', 'boot timeout')
    .action(async (names: string[], o: { all?: boolean; timeout?: string }) => {
      const ctx = await app.ctx();
      const timeoutSec = parseTimeout(o.timeout);
      await withClient(async (client) => {
        const list = await targets(ctx, client, names, o.all, (s) => s === 'stopped');
        if (o.all && list.length === 0) {
          app.io.err('no stopped containers to start');
          return;
        }
        await runBatch(list, {
          verb: 'starting',
          past: 'started',
          ...batchCommon(app, ctx),
          action: (n) => startContainer(ctx, n, { timeoutSec, client }),
        });
      });
    });

  // ---------------------------------------------------------------- stop
  program
    .command('stop')
    .description('stop containers (graceful by default)')
    .argument('[names...]')
    .option('-a, --all', 'all containers that are not stopped')
    .option('--term', 'terminate (TerminateMachine) instead of a clean halt')
    .option('--kill', 'kill all processes with SIGKILL')
    .action(async (names: string[], o: { all?: boolean; term?: boolean; kill?: boolean }) => {
      const ctx = await app.ctx();
      const mode = stopMode(o);
      await withClient(async (client) => {
        const list = await targets(ctx, client, names, o.all, (s) => s !== 'stopped');
        if (o.all && list.length === 0) {
          app.io.err('no running containers to stop');
          return;
        }
        await runBatch(list, {
          verb: 'stopping',
          past: 'stopped',
          ...batchCommon(app, ctx),
          action: (n) => stopContainer(ctx, n, mode, { client }),
        });
      });
    });

  // ---------------------------------------------------------------- restart
  program
    .command('restart')
    .description('stop then start containers')
    .argument('[names...]')
    .option('-a, --all', 'all containers')
    .option('--term', 'terminate instead of a clean halt')
    .option('--kill', 'kill all processes with SIGKILL')
    .option('-t, --timeout <seconds>', 'boot timeout')
    .action(async (names: string[], o: { all?: boolean; term?: boolean; kill?: boolean; timeout?: string }) => {
      const ctx = await app.ctx();
      const mode = stopMode(o);
      const timeoutSec = parseTimeout(o.timeout);
      await withClient(async (client) => {
        const list = await targets(ctx, client, names, o.all, () => true);
        await runBatch(list, {
          verb: 'restarting',
          past: 'restarted',
          ...batchCommon(app, ctx),
          action: async (n) => {
            const st = (await client.unitActiveStates([unitName(n)])).get(unitName(n));
            if (statusFromActiveState(st) !== 'stopped') {
              await stopContainer(ctx, n, mode, { client }).catch((e: Error) => {
                throw new SdmeError(`stop failed: ${e.message}`);
              });
            }
            await startContainer(ctx, n, { timeoutSec, client }).catch((e: Error) => {
              throw new SdmeError(`start failed: ${e.message}`);
            });
          },
        });
      });
    });

  // ---------------------------------------------------------------- rm
  program
    .command('rm')
    .description('remove containers (stops them first)')
    .argument('[names...]')
    .option('-a, --all', 'all containers')
    .option('-f, --force', 'skip the confirmation for --all', false)
    .action(async (names: string[], o: { all?: boolean; force: boolean }) => {
      const ctx = await app.ctx();
      await withClient(async (client) => {
        const list = await targets(ctx, client, names, o.all, () => true);
        if (o.all) {
          if (list.length === 0) {
            app.io.err('no containers found');
            return;
          }
          await confirmAll(app, o.force);
        }
        await runBatch(list, {
          verb: 'removing',
          past: 'removed',
          ...batchCommon(app, ctx),
          action: (n) => removeContainer(ctx, n, { client }),
        });
      });
    });

  // ---------------------------------------------------------------- exec
  program
    .command('exec')
    .description('run a command in a running container (stdio piped)')
    .argument('<name>')
    .argument('<cmd...>', 'command and arguments (`NAME CMD...` or `NAME -- CMD...`)')
    .option('--user <user>', 'run as this user (root: no uid switch)')
    .addOption(ociOption())
    .passThroughOptions()
    .action(async (name: string, cmd: string[], o: { user?: string; oci?: string | true }) => {
      refuseOci(o.oci);
      const command = afterDashDash(cmd);
      if (command.length === 0) throw new SdmeError('exec needs a command (sdme exec NAME -- CMD...)');
      const ctx = await app.ctx();
      const n = await resolveName(ctx.layout, name);
      app.handedOff = true;
      app.exitCode = await execInContainer(ctx, n, command, { user: o.user });
    });

  // ---------------------------------------------------------------- join
  program
    .command('join')
    .description('open a shell (or run a command) in a container')
    .argument('<name>')
    .argument('[cmd...]')
    .option('--start', 'start the container if it is not running')
    .option('-t, --timeout <seconds>', 'boot timeout when starting')
    .option('--user <user>', 'log in as this user')
    .addOption(ociOption())
    .passThroughOptions()
    .action(async (name: string, rest: string[], o: { start?: boolean; timeout?: string; user?: string; oci?: string | true }) => {
      refuseOci(o.oci);
      const cmd = afterDashDash(rest);
      const ctx = await app.ctx();
      const n = await resolveName(ctx.layout, name);
      const timeoutSec = parseTimeout(o.timeout);
      await withClient(async (client) => {
        if ((await client.machineState(n)) !== 'running') {
          let start = o.start === true;
          if (!start && (await app.interactive())) start = await app.confirm(`container '${n}' is not running; start it? [Y/n]`, true);
          if (!start) throw new SdmeError(`container '${n}' is not running (use --start to start it)`);
          app.io.err(`starting '${n}'`);
          await startContainer(ctx, n, { timeoutSec, client });
        }
        app.handedOff = true;
        app.exitCode = await joinContainer(ctx, n, cmd, { user: o.user, client });
      });
    });

  // ---------------------------------------------------------------- logs
  program
    .command('logs')
    .description('show the journal of a container (extra args go to journalctl)')
    .argument('<name>')
    .argument('[args...]')
    .addOption(ociOption())
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (name: string, args: string[], o: { oci?: string | true }) => {
      refuseOci(o.oci);
      const ctx = await app.ctx();
      const n = await resolveName(ctx.layout, name);
      app.handedOff = true;
      app.exitCode = await containerLogs(ctx, n, afterDashDash(args));
    });

  // ---------------------------------------------------------------- ps
  program
    .command('ps')
    .description('list containers')
    .option('--json', 'JSON output')
    .option('--json-pretty', 'indented JSON output')
    .action(async (o: { json?: boolean; jsonPretty?: boolean }) => {
      const ctx = await app.ctx();
      const rows = await listContainers(ctx);
      const fmt = pickFormat(o, ctx.config.default_output_format);
      process.stdout.write(fmt === 'table' ? formatPsTable(rows) : formatJson(rows, fmt === 'json-pretty'));
    });

  // ---------------------------------------------------------------- enable / disable
  for (const [verb, ing, past] of [
    ['enable', 'enabling', 'enabled'],
    ['disable', 'disabling', 'disabled'],
  ] as const) {
    program
      .command(verb)
      .description(`${verb} auto-start of containers at host boot`)
      .argument('<names...>')
      .action(async (names: string[]) => {
        const ctx = await app.ctx();
        await withClient(async (client) => {
          await runBatch(names, {
            verb: ing,
            past,
            ...batchCommon(app, ctx),
            action: (n) => (verb === 'enable' ? enableContainer(ctx, n, { client }) : disableContainer(ctx, n, { client })),
          });
        });
      });
  }

  // ---------------------------------------------------------------- set
  program
    .command('set')
    .description('replace the resource limits of a container (omitted limits are cleared)')
    .argument('<name>')
    .option('--memory <size>', 'memory limit, e.g. 2G')
    .option('--cpus <n>', 'CPU limit, e.g. 0.5')
    .option('--cpu-weight <w>', 'CPU weight 1-10000')
    .option('--disk <size>', 'disk cap (btrfs only)')
    .action(async (name: string, o: { memory?: string; cpus?: string; cpuWeight?: string; disk?: string }) => {
      const ctx = await app.ctx();
      const n = await resolveName(ctx.layout, name);
      await setLimits(ctx, n, o);
      app.io.out(n);
    });

  // ---------------------------------------------------------------- inspect
  program
    .command('inspect')
    .description('isolation report of a running container (read live from /proc)')
    .argument('<name>')
    .option('--json', 'JSON output')
    .action(async (name: string, o: { json?: boolean }) => {
      const ctx = await app.ctx();
      const report = await inspectContainer(ctx, name);
      const pod = (await readState(ctx.layout, report.name).catch(() => undefined))?.pod ?? null;
      process.stdout.write(o.json ? formatJson({ ...report, pod }, true) : withPodLine(formatIsolationTable(report), pod));
    });
}

/**
 * Commander hands a passThroughOptions command the `--` that separates NAME
 * from the command (`exec NAME -- CMD`): drop that one leading `--`; a later
 * `--` belongs to the command.
 */
export function afterDashDash(args: readonly string[]): string[] {
  return args[0] === '--' ? args.slice(1) : [...args];
}

/** `--oci [APP]`: optional value, so scripts write `exec --oci -- NAME CMD` (cli-surface.md). */
function ociOption(): Option {
  return new Option('--oci [app]', 'act on the OCI app (auto-detected, or APP); write `--oci -- NAME` to keep NAME');
}

function refuseOci(oci: string | true | undefined): void {
  if (oci !== undefined) throw new SdmeError('--oci: OCI app containers are not supported by this sdme yet');
}

/** The isolation table with a `pod: P` line under its title line (members only). */
export function withPodLine(table: string, pod: string | null): string {
  if (pod === null) return table;
  const nl = table.indexOf('\n');
  return `${table.slice(0, nl + 1)}pod: ${pod}\n${table.slice(nl + 1)}`;
}

function stopMode(o: { term?: boolean; kill?: boolean }): StopMode {
  if (o.term && o.kill) throw new SdmeError('--term and --kill are exclusive');
  return o.kill ? 'kill' : o.term ? 'term' : 'graceful';
}

function batchCommon(app: CliApp, ctx: Ctx) {
  return {
    io: app.io,
    signal: app.signal,
    verbose: app.verbose(),
    resolve: (input: string) => resolveName(ctx.layout, input),
  };
}

/** create with the `creating 'N'` line (after the name is known when generated). */
async function createNamed(ctx: Ctx, app: CliApp, state: ContainerState, client: SystemdClient): Promise<string> {
  if (state.name !== '') app.io.err(`creating '${state.name}'`);
  const name = await createContainer(ctx, state, {
    listMachines: async () => (await client.listMachines()).map((m) => m.name),
  });
  if (state.name === '') app.io.err(`creating '${name}'`);
  return name;
}

/** `--started` / `new`: start and wait; on failure remove the container and rethrow. */
async function startOrRemove(ctx: Ctx, app: CliApp, name: string, timeoutSec: number | undefined, client: SystemdClient) {
  app.io.err(`starting '${name}'`);
  try {
    await startContainer(ctx, name, { timeoutSec, client });
  } catch (e) {
    app.io.err(`start failed, removing '${name}'`);
    try {
      await removeContainer(ctx, name, { client });
    } catch (re) {
      app.io.err(`warning: could not remove '${name}': ${(re as Error).message}`);
    }
    throw e;
  }
}

