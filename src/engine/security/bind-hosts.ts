/**
 * The I/O half of bind validation (network-pods-security.md §6): host paths
 * must exist at create time, and block/char devices are never idmapped.
 */
import { stat } from 'node:fs/promises';
import { showName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';
import type { BindSpec } from '../types.js';

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
