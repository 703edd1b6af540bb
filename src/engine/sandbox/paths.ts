/**
 * Where a sandbox keeps its state, and the name rules. Pure.
 */
import { join } from 'node:path';
import { SdmeError } from '../errors.js';

/** Default parent of per-sandbox state dirs (real filesystem, survives reboots of the sandbox). */
export const SANDBOX_BASE = '/var/tmp/sdme-sandbox';
/** Cache of debootstrap-built root filesystems (fallback when the host has no systemd). */
export const SANDBOX_CACHE = '/var/cache/sdme-sandbox';
export const DEFAULT_SANDBOX_NAME = 'sdme-sandbox';

export interface SandboxPaths {
  name: string;
  base: string;
  /** state dir: everything below is removed by `down` */
  dir: string;
  upper: string;
  work: string;
  merged: string;
  /** bound to /var/lib/sdme inside */
  data: string;
  consoleLog: string;
  /** KEY=VALUE record of the running sandbox */
  stateFile: string;
  /** flock target; outside `dir` so it outlives the dir's removal */
  lockFile: string;
}

export function sandboxPaths(name: string, base: string = SANDBOX_BASE): SandboxPaths {
  const dir = join(base, name);
  return {
    name,
    base,
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    data: join(dir, 'data'),
    consoleLog: join(dir, 'console.log'),
    stateFile: join(dir, 'state'),
    lockFile: join(base, `.${name}.lock`),
  };
}

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Sandbox names double as machine names and dir names: lowercase letters, digits, '-'. */
export function validateSandboxName(name: string): string {
  if (!NAME_RE.test(name) || name.endsWith('-')) {
    throw new SdmeError(
      `invalid sandbox name '${name}': use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  return name;
}
