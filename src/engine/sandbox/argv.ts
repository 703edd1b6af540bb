/**
 * The systemd-nspawn argv that boots a sandbox. Pure.
 */

export interface SandboxArgvInput {
  name: string;
  merged: string;
  /** host dir bound at /var/lib/sdme */
  data: string;
  /** project checkout bound at the same path inside */
  checkout?: string;
  /** 32 hex digits: the sandbox's machine id (so it is not the host's) */
  machineId: string;
  /** read-only binds (same path inside), e.g. node for a debootstrap root */
  roBinds?: string[];
}

export function buildSandboxArgv(i: SandboxArgvInput): string[] {
  const argv = [
    '-D',
    i.merged,
    '--boot',
    // no systemd on the machine: nothing to register with, no unit to move into
    '--register=no',
    '--keep-unit',
    `--machine=${i.name}`,
    `--uuid=${i.machineId}`,
    '--private-network',
    '--console=read-only',
    `--bind=${i.data}:/var/lib/sdme`,
  ];
  if (i.checkout) argv.push(`--bind=${i.checkout}:${i.checkout}`);
  for (const p of i.roBinds ?? []) argv.push(`--bind-ro=${p}:${p}`);
  return argv;
}

/** The PATH commands run with inside the sandbox. */
export const INNER_PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const INNER_PATH = `PATH=${INNER_PATH_DIRS.join(':')}`;

/** nsenter argv running argv inside the sandbox whose init is `leader`, with env and cwd set there. */
export function nsenterArgv(leader: number, argv: readonly string[], env: readonly string[] = [INNER_PATH], cwd = '/'): string[] {
  return ['-t', String(leader), '-a', '--', '/usr/bin/env', '-i', '-C', cwd, ...env, ...argv];
}

/** Environment for commands run inside: a clean, predictable set. */
export function innerEnv(name: string, from: Record<string, string | undefined>): string[] {
  const env = [
    INNER_PATH,
    'HOME=/root',
    'LANG=C.UTF-8',
    `SDME_SANDBOX=${name}`,
  ];
  for (const k of ['CI', 'TERM', 'NO_COLOR', 'FORCE_COLOR']) {
    const v = from[k];
    if (v !== undefined) env.push(`${k}=${v}`);
  }
  return env;
}
