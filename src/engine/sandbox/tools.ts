/**
 * Finding the host tools the sandbox needs, strictly on PATH (like execvp),
 * so a missing tool is reported instead of guessed.
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { SdmeError } from '../errors.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** pathEnv defaults to $PATH (then to the usual dirs when PATH is unset). */
export function findOnPath(cmd: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const d of (pathEnv ?? DEFAULT_PATH).split(':').filter(Boolean)) {
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next dir
    }
  }
  return undefined;
}

const PACKAGE_OF: Record<string, string> = {
  'systemd-nspawn': 'systemd-container',
  nsenter: 'util-linux',
  debootstrap: 'debootstrap',
};

/** Absolute path of cmd, or an SdmeError naming the package that provides it. */
export function requireTool(cmd: string, pathEnv: string | undefined = process.env.PATH): string {
  const p = findOnPath(cmd, pathEnv);
  if (p) return p;
  const pkg = PACKAGE_OF[cmd];
  throw new SdmeError(`${cmd} not found on PATH${pkg ? `: install the ${pkg} package` : ''}`);
}
