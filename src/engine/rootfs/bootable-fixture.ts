/**
 * The bootable Debian rootfs tarball the e2e suite imports (`-r`, `--userns`).
 *
 * Built on the HOST before the sandbox boots (scripts/prepare-fixtures.mjs,
 * run by `npm run test:e2e`): the sandbox has no network, and it sees the
 * cache through its overlay lower layer (a clone of `/`). Inside the sandbox
 * the tests only read the cache (test/e2e/fixtures.ts).
 *
 * debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2
 * bookworm: ~40 s once, ~55 MB as tar.zst after dropping apt caches and
 * lists; boots to multi-user.target under systemd-nspawn with dbus running.
 * Cache: $SDME_TEST_CACHE or /var/cache/sdme-test, one file per package list.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flock, LOCK_EX, LOCK_UN } from '../../native/libc.js';
import { run } from '../../native/run.js';
import { SdmeError } from '../errors.js';

export const FIXTURE_SUITE = 'bookworm';
export const FIXTURE_PACKAGES: readonly string[] = ['systemd', 'systemd-sysv', 'dbus', 'iproute2'];
/** `PRETTY_NAME` of the fixture, for OS assertions. */
export const FIXTURE_OS = 'Debian GNU/Linux 12 (bookworm)';
export const DEFAULT_FIXTURE_CACHE_DIR = '/var/cache/sdme-test';
export const DEFAULT_FIXTURE_MIRROR = 'http://deb.debian.org/debian';

export function fixtureCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SDME_TEST_CACHE || DEFAULT_FIXTURE_CACHE_DIR;
}

/** The cache file for a package list (the key covers suite, variant and packages). */
export function fixtureCachePath(extraPackages: readonly string[] = [], cacheDir = fixtureCacheDir()): string {
  const packages = [...FIXTURE_PACKAGES, ...extraPackages];
  const key = createHash('sha256').update([FIXTURE_SUITE, 'minbase', ...packages].join(',')).digest('hex').slice(0, 12);
  return join(cacheDir, `${FIXTURE_SUITE}-minbase-${key}.tar.zst`);
}

export interface FixtureBuildOptions {
  extraPackages?: readonly string[];
  cacheDir?: string;
  mirror?: string;
  note?: (msg: string) => void;
  signal?: AbortSignal;
}

async function must(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const r = await run(cmd, args, { timeoutMs, signal });
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('; ');
    throw new SdmeError(`${cmd} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${tail}`);
  }
}

/**
 * Builds the cached tarball if it is missing (blocking lock: parallel callers
 * build once; staged, then renamed). Returns its path and whether it was built.
 */
export async function ensureBootableRootfsCache(o: FixtureBuildOptions = {}): Promise<{ path: string; built: boolean }> {
  const cacheDir = o.cacheDir ?? fixtureCacheDir();
  const packages = [...FIXTURE_PACKAGES, ...(o.extraPackages ?? [])];
  const out = fixtureCachePath(o.extraPackages, cacheDir);
  if (existsSync(out)) return { path: out, built: false };
  const mirror = o.mirror ?? (process.env.SDME_TEST_MIRROR || DEFAULT_FIXTURE_MIRROR);
  mkdirSync(cacheDir, { recursive: true });
  const lockFd = openSync(join(cacheDir, '.build.lock'), 'a');
  try {
    flock(lockFd, LOCK_EX); // blocking on purpose: wait for a concurrent build
    if (existsSync(out)) return { path: out, built: false };
    const tree = join(cacheDir, `.build-${process.pid}`);
    rmSync(tree, { recursive: true, force: true });
    try {
      o.note?.(`building the e2e rootfs fixture with debootstrap (${FIXTURE_SUITE} minbase from ${mirror}; once, cached in ${out})`);
      try {
        await must(
          'debootstrap',
          ['--variant=minbase', `--include=${packages.join(',')}`, FIXTURE_SUITE, tree, mirror],
          20 * 60_000,
          o.signal,
        );
      } catch (e) {
        throw new SdmeError(`cannot build the e2e rootfs fixture (needs the mirror ${mirror}): ${(e as Error).message}`);
      }
      // per-container identity comes from nspawn; keep the image neutral and small
      writeFileSync(join(tree, 'etc/machine-id'), '');
      rmSync(join(tree, 'etc/hostname'), { force: true });
      for (const d of ['var/cache/apt', 'var/lib/apt/lists']) {
        rmSync(join(tree, d), { recursive: true, force: true });
        mkdirSync(join(tree, d), { recursive: true });
      }
      const tmp = `${out}.tmp-${process.pid}`;
      try {
        await must(
          'tar',
          ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', tree, '-cf', tmp, '.'],
          10 * 60_000,
          o.signal,
        );
        renameSync(tmp, out);
      } finally {
        rmSync(tmp, { force: true });
      }
      return { path: out, built: true };
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  } finally {
    flock(lockFd, LOCK_UN);
    closeSync(lockFd);
  }
}
