/**
 * Shared e2e fixtures. The bootable Debian rootfs tarball is built on the
 * host by `node scripts/prepare-fixtures.mjs` (part of `npm run test:e2e`,
 * before the sandbox boots; the builder is src/engine/rootfs/bootable-fixture.ts).
 * Inside the sandbox there is no network, so these helpers only read the cache.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { fixtureCachePath } from '../../src/engine/rootfs/bootable-fixture.js';

export { FIXTURE_OS, FIXTURE_PACKAGES, FIXTURE_SUITE, fixtureCachePath } from '../../src/engine/rootfs/bootable-fixture.js';

export interface FixtureResult {
  path: string;
  /** always true: the sandbox only copies the host-built cache */
  cached: boolean;
  ms: number;
}

/** Why the fixture is missing and how to make it (the same text for the CI failure and the local skip). */
export function fixtureMissingReason(extraPackages: readonly string[] = []): string {
  return (
    `bootable rootfs fixture ${fixtureCachePath(extraPackages)} is missing: build it on the host before the sandbox boots ` +
    '(node scripts/prepare-fixtures.mjs; npm run test:e2e does this)'
  );
}

/** The cached tarball, or undefined when it was not prepared. */
export function cachedBootableRootfs(extraPackages: readonly string[] = []): string | undefined {
  const p = fixtureCachePath(extraPackages);
  return existsSync(p) ? p : undefined;
}

/**
 * For tests that need the fixture: returns its path. When it is missing this
 * throws under CI (a missing fixture must fail the run) and otherwise skips
 * the test with the reason.
 */
export function requireBootableRootfs(t: { skip(note?: string): never }, extraPackages: readonly string[] = []): string {
  const p = cachedBootableRootfs(extraPackages);
  if (p) return p;
  if (process.env.CI) throw new Error(fixtureMissingReason(extraPackages));
  return t.skip(fixtureMissingReason(extraPackages));
}

/** Copies the cached zstd tarball to destPath; throws with the reason when it was not prepared. */
export function buildBootableRootfsTarball(destPath: string, opts: { extraPackages?: string[] } = {}): FixtureResult {
  const t0 = Date.now();
  const p = cachedBootableRootfs(opts.extraPackages);
  if (!p) throw new Error(fixtureMissingReason(opts.extraPackages));
  copyFileSync(p, destPath);
  return { path: destPath, cached: true, ms: Date.now() - t0 };
}
