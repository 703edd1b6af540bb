/**
 * Prepares the overlay upper dir of a sandbox before the first mount:
 * opaque /etc/systemd/system and /var/log (the host's enablements and logs stay
 * out), the unit links the clone needs (units.ts), node for a debootstrap root,
 * and `sdme`/`sdme-tui` commands for a bound checkout.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lsetxattr } from '../../native/libc.js';
import { INNER_PATH_DIRS } from './argv.js';
import { cloneUnitLinks } from './units.js';

const OPAQUE_DIRS = ['etc/systemd/system', 'var/log'];

/** Top-level symlinks of LOWER/etc/systemd/system, name -> target. */
export function lowerUnitLinks(lower: string): Map<string, string> {
  const dir = join(lower, 'etc/systemd/system');
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      if (lstatSync(join(dir, n)).isSymbolicLink()) out.set(n, readlinkSync(join(dir, n)));
    } catch {
      // raced away
    }
  }
  return out;
}

function haveUnitIn(lower: string): (unit: string) => boolean {
  return (unit) => ['lib/systemd/system', 'usr/lib/systemd/system'].some((d) => existsSync(join(lower, d, unit)));
}

/** Identity files, as sdme writes them for host clones (lifecycle.md §2.8). */
export function identityFiles(name: string): Record<string, string> {
  return {
    // empty: systemd gives the sandbox a transient id instead of the host's
    'etc/machine-id': '',
    'etc/hostname': `${name}\n`,
    'etc/hosts': `127.0.0.1 localhost ${name}\n::1 localhost ${name}\n`,
    // the host's mounts are not the sandbox's
    'etc/fstab': '# sdme sandbox: the host fstab is hidden\n',
  };
}

export function prepareUpper(upper: string, lower: string, name: string): void {
  mkdirSync(join(upper, 'etc'), { recursive: true, mode: 0o755 });
  for (const [rel, text] of Object.entries(identityFiles(name))) writeFileSync(join(upper, rel), text, { mode: 0o644 });
  // systemd seeds an empty machine-id from a regular /var/lib/dbus/machine-id
  // (the host's id) before nspawn's --uuid: point it at /etc/machine-id instead
  if (existsSync(join(lower, 'var/lib/dbus'))) {
    mkdirSync(join(upper, 'var/lib/dbus'), { recursive: true, mode: 0o755 });
    symlinkSync('/etc/machine-id', join(upper, 'var/lib/dbus/machine-id'));
  }
  for (const d of OPAQUE_DIRS) {
    const p = join(upper, d);
    mkdirSync(p, { recursive: true, mode: 0o755 });
    lsetxattr(p, 'trusted.overlay.opaque', 'y');
  }
  // journald wants its dir back under the opaque /var/log
  mkdirSync(join(upper, 'var/log/journal'), { recursive: true, mode: 0o2755 });
  const etcUnits = join(upper, 'etc/systemd/system');
  for (const l of cloneUnitLinks(lowerUnitLinks(lower), haveUnitIn(lower))) {
    const p = join(etcUnits, l.path);
    mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
    symlinkSync(l.target, p);
  }
}

/**
 * A debootstrap root has no node: bind the host's read-only and give it
 * npm/npx entry points. Returns the paths to bind read-only.
 */
export function nodeBindsForForeignRoot(upper: string, nodeExec: string): string[] {
  const binds = [nodeExec];
  const npmDir = join(dirname(dirname(nodeExec)), 'lib/node_modules/npm');
  if (existsSync(npmDir)) {
    binds.push(npmDir);
    const bin = join(upper, 'usr/local/bin');
    mkdirSync(bin, { recursive: true, mode: 0o755 });
    for (const [cmd, cli] of [
      ['npm', 'npm-cli.js'],
      ['npx', 'npx-cli.js'],
    ] as const) {
      const p = join(bin, cmd);
      if (!existsSync(p)) symlinkSync(join(npmDir, 'bin', cli), p);
    }
  }
  // nspawn creates the bind mount points itself
  return binds;
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * /usr/local/bin wrappers running the bound checkout's CLIs by name, for the
 * commands not already on the inner PATH (onPath). Pure: path -> script.
 */
export function checkoutWrappers(checkout: string, nodeExec: string, onPath: (cmd: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const cmd of ['sdme', 'sdme-tui']) {
    if (onPath(cmd)) continue;
    out.set(`usr/local/bin/${cmd}`, `#!/bin/sh\nexec ${shQuote(nodeExec)} ${shQuote(`${checkout}/bin/${cmd}.js`)} "$@"\n`);
  }
  return out;
}

/** Writes checkoutWrappers into upper; a name present in LOWER's PATH dirs is left alone. Returns the commands written. */
export function writeCheckoutWrappers(upper: string, lower: string, checkout: string, nodeExec: string): string[] {
  const onPath = (cmd: string) =>
    INNER_PATH_DIRS.some((d) => {
      try {
        lstatSync(join(lower, d, cmd));
        return true;
      } catch {
        return false;
      }
    });
  const written: string[] = [];
  for (const [rel, text] of checkoutWrappers(checkout, nodeExec, onPath)) {
    const p = join(upper, rel);
    mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
    writeFileSync(p, text, { mode: 0o755 });
    chmodSync(p, 0o755); // umask-proof
    written.push(rel.slice(rel.lastIndexOf('/') + 1));
  }
  return written;
}
