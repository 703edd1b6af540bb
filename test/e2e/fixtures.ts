/**
 * Shared e2e fixtures.
 *
 * `buildBootableRootfsTarball(dest)` makes a small bootable Debian 12 root
 * filesystem tarball for `-r` and `--userns` tests.
 *
 * Choice (measured on this machine, Debian mirror reachable):
 *   debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,iproute2 bookworm
 *   ~40 s once; packed with `tar --zstd` ~3 s, ~60 MB after dropping apt caches/lists;
 *   `sdme fs import` of it ~1.6 s; the imported tree boots to multi-user.target
 *   under systemd-nspawn with dbus running.
 * The alternative, archiving the sandbox's own root minus large trees, was
 * rejected: /usr alone is 5.3 GB here (3.8 GB /usr/lib) and pruning it safely
 * is fragile.
 *
 * Cache: FIXTURE_CACHE_DIR (default /var/cache/sdme-test, override with
 * SDME_TEST_CACHE), reused between runs, keyed by the package list. A cache
 * hit costs one file copy (~0.1 s). The sandbox host has no network and its
 * writes are thrown away, so build the cache on the real host first; it is
 * then visible inside the sandbox through the overlay lower layer:
 *     npx vitest run --project e2e test/e2e/rootfs-import.test.ts -t fixture
 * (that one case needs no systemd, so it also runs outside the sandbox).
 */
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/native/run.js';
import { flock, LOCK_EX, LOCK_UN } from '../../src/native/libc.js';

export const FIXTURE_CACHE_DIR = process.env.SDME_TEST_CACHE ?? '/var/cache/sdme-test';
export const FIXTURE_SUITE = 'bookworm';
export const FIXTURE_MIRROR = process.env.SDME_TEST_MIRROR ?? 'http://deb.debian.org/debian';
export const FIXTURE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'iproute2'];
/** `PRETTY_NAME` of the fixture, for OS assertions. */
export const FIXTURE_OS = 'Debian GNU/Linux 12 (bookworm)';

export interface FixtureResult {
  path: string;
  cached: boolean;
  ms: number;
}

function cacheFile(packages: string[]): string {
  const key = createHash('sha256').update([FIXTURE_SUITE, 'minbase', ...packages].join(',')).digest('hex').slice(0, 12);
  return join(FIXTURE_CACHE_DIR, `${FIXTURE_SUITE}-minbase-${key}.tar.zst`);
}

async function must(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.exitCode !== 0) {
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
    throw new Error(`${cmd} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${tail}`);
  }
}

/** Builds the cached tarball if missing (blocking file lock: parallel callers build once). Returns its path. */
export async function ensureBootableRootfsCache(extraPackages: string[] = []): Promise<{ path: string; built: boolean }> {
  const packages = [...FIXTURE_PACKAGES, ...extraPackages];
  const out = cacheFile(packages);
  if (existsSync(out)) return { path: out, built: false };
  mkdirSync(FIXTURE_CACHE_DIR, { recursive: true });
  const lockFd = openSync(join(FIXTURE_CACHE_DIR, '.build.lock'), 'a');
  try {
    flock(lockFd, LOCK_EX); // blocking on purpose: wait for a concurrent build
    if (existsSync(out)) return { path: out, built: false };
    const tree = join(FIXTURE_CACHE_DIR, `.build-${process.pid}`);
    rmSync(tree, { recursive: true, force: true });
    try {
      try {
        await must(
          'debootstrap',
          ['--variant=minbase', `--include=${packages.join(',')}`, FIXTURE_SUITE, tree, FIXTURE_MIRROR],
          20 * 60_000,
        );
      } catch (e) {
        throw new Error(
          `cannot build the bootable rootfs fixture (needs ${FIXTURE_MIRROR}; inside the sandbox there is no network: ` +
            `build ${out} on the host first): ${(e as Error).message}`,
        );
      }
      // per-container identity comes from nspawn; keep the image neutral and small
      writeFileSync(join(tree, 'etc/machine-id'), '');
      rmSync(join(tree, 'etc/hostname'), { force: true });
      for (const d of ['var/cache/apt', 'var/lib/apt/lists']) {
        rmSync(join(tree, d), { recursive: true, force: true });
        mkdirSync(join(tree, d), { recursive: true });
      }
      const tmp = `${out}.tmp-${process.pid}`;
      await must('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', tree, '-cf', tmp, '.'], 10 * 60_000);
      renameSync(tmp, out);
      return { path: out, built: true };
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  } finally {
    flock(lockFd, LOCK_UN);
    closeSync(lockFd);
  }
}

/** Writes a zstd-compressed bootable rootfs tarball to destPath (from the cache; builds it once if needed). */
export async function buildBootableRootfsTarball(destPath: string, opts: { extraPackages?: string[] } = {}): Promise<FixtureResult> {
  const t0 = Date.now();
  const { path, built } = await ensureBootableRootfsCache(opts.extraPackages);
  copyFileSync(path, destPath);
  return { path: destPath, cached: !built, ms: Date.now() - t0 };
}
