/**
 * Starting the long-lived systemd-nspawn of a sandbox. It must outlive the CLI
 * that started it, so it gets its own process group and its output goes to a
 * file; run.ts (which waits for its children) does not fit this one case.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Starts cmd detached (own process group, stdin /dev/null, stdout+stderr appended to logFile); returns its pid. */
export function spawnDetached(cmd: string, args: readonly string[], logFile: string): Promise<number> {
  const out = openSync(logFile, 'a', 0o600);
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env } });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  } finally {
    closeSync(out);
  }
}
