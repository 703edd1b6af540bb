/**
 * exec / join / logs (lifecycle.md §12): hand the terminal to the stock
 * tools (systemd-run, machinectl, journalctl) and return their exit code.
 */
import { readFileSync, statSync } from 'node:fs';
import { run, which } from '../../native/run.js';
import { readState } from '../catalogue/container-state.js';
import { unitName } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import type { SystemdClient } from '../systemd/dbus.js';
import type { ContainerState } from '../types.js';
import { ensureExists, withSystemd } from './common.js';

/** True if user exists in the host passwd database. */
function userExists(user: string, passwd = '/etc/passwd'): boolean {
  try {
    return readFileSync(passwd, 'utf8')
      .split('\n')
      .some((l) => l.split(':')[0] === user);
  } catch {
    return false;
  }
}

/**
 * The uid to run as: `--user root` = root (no --uid), `--user X` = X, else
 * $SUDO_USER on host clones when join_as_sudo_user (never persisted).
 */
export function resolveUser(
  ctx: Ctx,
  s: ContainerState,
  userFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  exists: (u: string) => boolean = userExists,
): { uid?: string; note?: string } {
  if (userFlag === 'root') return {};
  if (userFlag !== undefined && userFlag !== '') return { uid: userFlag };
  const sudo = env.SUDO_USER;
  if (s.rootfs === '' && ctx.config.join_as_sudo_user && sudo && sudo !== 'root' && exists(sudo)) {
    const dirs = s.opaqueDirs.length > 0 ? ` (opaque in this container: ${s.opaqueDirs.join(', ')})` : '';
    return { uid: sudo, note: `note: running as '${sudo}' ($SUDO_USER); use --user root for root${dirs}` };
  }
  return {};
}

export async function isRunning(client: SystemdClient, name: string): Promise<boolean> {
  return (await client.machineState(name)) === 'running';
}

/** systemd-run argv for exec. */
export function execArgv(name: string, cmd: readonly string[], uid?: string): string[] {
  const args = ['--machine', name, '--pipe', '--wait', '--quiet', '--collect'];
  if (uid !== undefined) args.push('--uid', uid);
  return [...args, '--', ...cmd];
}

export interface ExecOptions {
  user?: string;
  client?: SystemdClient;
}

/** Run cmd inside a running container with stdio inherited; returns its exit code. */
export async function execInContainer(ctx: Ctx, name: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<number> {
  if (cmd.length === 0) throw new SdmeError('exec needs a command');
  await ensureExists(ctx, name);
  const state = await readState(ctx.layout, name);
  const running = await withSystemd(opts.client, (c) => isRunning(c, name));
  if (!running) throw new SdmeError(`container '${name}' is not running (start it with 'sdme start ${name}')`);
  const u = resolveUser(ctx, state, opts.user);
  if (u.note && ctx.verbose) ctx.note(u.note);
  const r = await run('systemd-run', execArgv(name, cmd, u.uid), { inherit: true, timeoutMs: 0 });
  const code = childCode(r);
  const why = execFailureNote(code, name, cmd, u.uid);
  if (why) ctx.note(why);
  return code;
}

/**
 * systemd-run --quiet says nothing when the service manager inside could not
 * start the command: explain its exit statuses 203/EXEC and 217/USER.
 */
export function execFailureNote(code: number, name: string, cmd: readonly string[], uid?: string): string | undefined {
  if (code === 203) {
    return `error: cannot execute '${cmd[0] ?? ''}' in '${name}': not found or not executable (exit status 203/EXEC)`;
  }
  if (code === 217 && uid !== undefined) {
    return `error: cannot run as user '${uid}' in '${name}': no such user in the container (exit status 217/USER)`;
  }
  return undefined;
}

function childCode(r: { exitCode: number; signal?: string }): number {
  if (r.signal) return 1;
  return r.exitCode;
}

export interface JoinOptions {
  user?: string;
  client?: SystemdClient;
}

/**
 * Interactive shell (or command) via `machinectl shell`; falls back to
 * nsenter when machinectl cannot get a PTY or is denied.
 */
export async function joinContainer(ctx: Ctx, name: string, cmd: readonly string[], opts: JoinOptions = {}): Promise<number> {
  await ensureExists(ctx, name);
  const state = await readState(ctx.layout, name);
  const leader = await withSystemd(opts.client, async (c) => {
    if (!(await isRunning(c, name))) throw new SdmeError(`container '${name}' is not running (use --start to start it)`);
    return c.machineLeader(name);
  });
  const u = resolveUser(ctx, state, opts.user);
  if (u.note) ctx.note(u.note);
  // a command with stdout not a TTY: pipes, like exec
  if (cmd.length > 0 && !process.stdout.isTTY) {
    const code = childCode(await run('systemd-run', execArgv(name, cmd, u.uid), { inherit: true, timeoutMs: 0 }));
    const why = execFailureNote(code, name, cmd, u.uid);
    if (why) ctx.note(why);
    return code;
  }
  const args = ['shell'];
  if (u.uid !== undefined) args.push('--uid', u.uid);
  args.push(name, ...cmd);
  const r = await run('machinectl', args, { inherit: true, timeoutMs: 0 });
  if (r.exitCode === 0) return 0;
  const probe = await run('machinectl', ['shell', name, '/bin/true'], { timeoutMs: 15_000 });
  if (!/Failed to get shell PTY|Access denied/.test(probe.stderr) || leader === undefined) return childCode(r);
  ctx.note('note: machinectl shell is unavailable, falling back to nsenter');
  const ns = ['-t', String(leader), '-m', '-u', '-i', '-n', '-p'];
  if (foreignUserns(leader)) ns.push('-C', '-U');
  const inner = cmd.length > 0 ? [...cmd] : which('script') ? ['script', '-qc', '/bin/bash -l', '/dev/null'] : ['/bin/sh', '-l'];
  const fb = await run('nsenter', [...ns, '--', ...inner], { inherit: true, timeoutMs: 0 });
  return cmd.length > 0 ? childCode(fb) : 0;
}

function foreignUserns(pid: number): boolean {
  try {
    return statSync(`/proc/${pid}/ns/user`).ino !== statSync('/proc/self/ns/user').ino;
  } catch {
    return false;
  }
}

/** `journalctl -u sdme@N.service ARGS...` with the terminal; returns its exit code. */
export async function containerLogs(ctx: Ctx, name: string, args: readonly string[]): Promise<number> {
  if (!(await ensureState(ctx, name))) throw new SdmeError(`container '${name}' does not exist`);
  const r = await run('journalctl', ['-u', unitName(name), ...args], { inherit: true, timeoutMs: 0 });
  return childCode(r);
}

async function ensureState(ctx: Ctx, name: string): Promise<boolean> {
  try {
    await readState(ctx.layout, name);
    return true;
  } catch {
    return false;
  }
}
