/**
 * The I/O half of bind validation (network-pods-security.md §6): host paths
 * must exist at create time, block/char devices are never idmapped, and a
 * user-namespaced container cannot idmap a bind whose source is on overlayfs.
 */
import { stat, statfs } from 'node:fs/promises';
import { showName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';
import type { BindSpec } from '../types.js';

/** statfs f_type of overlayfs (OVERLAYFS_SUPER_MAGIC). */
export const OVERLAYFS_MAGIC = 0x794c7630;

/** Throws SdmeError for a missing host path; returns the host paths that are block/char devices. */
export async function inspectBindHosts(binds: readonly Pick<BindSpec, 'host'>[]): Promise<Set<string>> {
  const devices = new Set<string>();
  for (const b of binds) {
    const st = await stat(b.host).catch((e: NodeJS.ErrnoException) => {
      throw new SdmeError(`bind host path '${showName(b.host)}' does not exist or is not accessible (${e.code ?? e.message})`);
    });
    if (st.isBlockDevice() || st.isCharacterDevice()) devices.add(b.host);
  }
  return devices;
}

/**
 * Under a user namespace every non-device bind is idmapped; the kernel
 * refuses idmapped mounts of overlayfs (nspawn: "Failed to map ids for bind
 * mount ...: Invalid argument", checked on 6.18). Refuse those up front.
 */
export async function assertIdmappableBinds(
  binds: readonly Pick<BindSpec, 'host'>[],
  devices: ReadonlySet<string>,
  fsType: (p: string) => Promise<number> = async (p) => Number((await statfs(p)).type),
): Promise<void> {
  for (const b of binds) {
    if (devices.has(b.host)) continue;
    if ((await fsType(b.host)) === OVERLAYFS_MAGIC) {
      throw new SdmeError(
        `bind host path '${showName(b.host)}' is on overlayfs, which cannot be idmapped for a user namespace ` +
          `(--userns/--hardened/--strict); bind a directory on a real filesystem instead`,
      );
    }
  }
}
