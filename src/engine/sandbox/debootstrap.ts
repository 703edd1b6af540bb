/**
 * Fallback root for machines whose own root has no systemd: a Debian bookworm
 * minbase with systemd, built once with debootstrap and cached under
 * SANDBOX_CACHE/rootfs-SUITE (used read-only as the overlay lowerdir).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../native/run.js';
import { SdmeError } from '../errors.js';
import { lockSandbox } from './lock.js';
import { requireTool } from './tools.js';

export const DEBOOTSTRAP_SUITE = 'bookworm';
export const DEBOOTSTRAP_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'systemd-container',
  'systemd-resolved',
  'dbus',
  'iproute2',
  'nftables',
  'dhcpcd-base',
  'util-linux',
  'procps',
  'attr',
  'ca-certificates',
  'libstdc++6',
  'tar',
  'zstd',
  'xz-utils',
  'bzip2',
];
const COMPLETE_MARK = '.sdme-complete';

/**
 * The Debian mirror the host's apt already uses (deb822 `URIs:` or one-line
 * `deb URI SUITE`), so no host is hard-coded. Security/updates entries are skipped.
 */
export function aptMirror(sourcesTexts: readonly string[]): string | undefined {
  for (const text of sourcesTexts) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
      const enabled = !/^Enabled:\s*no/im.test(stanza);
      const types = (/^Types:\s*(.+)$/m.exec(stanza)?.[1] ?? '').split(/\s+/);
      if (uris && enabled && types.includes('deb') && !/-security\b/.test(suites)) {
        return uris;
      }
    }
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (m && !/-security$/.test(m[2]!)) return m[1];
    }
  }
  return undefined;
}

function hostAptSources(): string[] {
  const texts: string[] = [];
  try {
    texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  } catch {
    // none
  }
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.sources') || f.endsWith('.list')) texts.push(readFileSync(join('/etc/apt/sources.list.d', f), 'utf8'));
    }
  } catch {
    // none
  }
  return texts;
}

export interface DebootstrapOptions {
  cacheDir: string;
  pathEnv?: string;
  note?: (msg: string) => void;
  signal?: AbortSignal;
}

/** Path of the cached root, building it first if needed. */
export async function ensureDebootstrapRoot(o: DebootstrapOptions): Promise<string> {
  const root = join(o.cacheDir, `rootfs-${DEBOOTSTRAP_SUITE}`);
  if (existsSync(join(root, COMPLETE_MARK))) return root;
  const debootstrap = requireTool('debootstrap', o.pathEnv);
  const mirror = process.env.SDME_SANDBOX_MIRROR || aptMirror(hostAptSources());
  if (!mirror) throw new SdmeError('no Debian mirror found in /etc/apt sources: set SDME_SANDBOX_MIRROR');
  mkdirSync(o.cacheDir, { recursive: true, mode: 0o755 });
  const lock = lockSandbox(join(o.cacheDir, `.rootfs-${DEBOOTSTRAP_SUITE}.lock`), `rootfs-${DEBOOTSTRAP_SUITE}`);
  try {
    if (existsSync(join(root, COMPLETE_MARK))) return root;
    const stage = join(o.cacheDir, `.rootfs-${DEBOOTSTRAP_SUITE}.stage-${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    o.note?.(`building the sandbox root with debootstrap (${DEBOOTSTRAP_SUITE}, once; cached in ${root})`);
    const r = await run(
      debootstrap,
      ['--variant=minbase', `--include=${DEBOOTSTRAP_PACKAGES.join(',')}`, DEBOOTSTRAP_SUITE, stage, mirror],
      { timeoutMs: 30 * 60_000, signal: o.signal },
    );
    if (r.exitCode !== 0) {
      const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-5).join('; ');
      rmSync(stage, { recursive: true, force: true });
      throw new SdmeError(`debootstrap failed (exit ${r.exitCode}): ${tail}`);
    }
    // apt lists and the package cache are dead weight in a lowerdir
    rmSync(join(stage, 'var/cache/apt/archives'), { recursive: true, force: true });
    mkdirSync(join(stage, 'var/cache/apt/archives/partial'), { recursive: true });
    writeFileSync(join(stage, COMPLETE_MARK), `${new Date().toISOString()}\n`);
    rmSync(root, { recursive: true, force: true });
    renameSync(stage, root);
    return root;
  } finally {
    lock.release();
  }
}

/** True when `root` has a systemd to boot. */
export function hasSystemd(root: string): boolean {
  return ['lib/systemd/systemd', 'usr/lib/systemd/systemd'].some((p) => existsSync(join(root, p)));
}
