/**
 * The host facts createFlagsToState needs, gathered once for the CLI's
 * create/new and the TUI wizard: systemd version, existing pods, whether the
 * -r rootfs has an OCI app unit, which bind sources are devices, and a bridge
 * check for --network-bridge. Reads only; nothing is written.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../context.js';
import { isValidName } from '../catalogue/names.js';
import { bridgeExists, SYS_CLASS_NET } from '../network/ifnames.js';
import type { CreateFlagsInput, CreateHostFacts } from '../security/create-flags.js';
import { exists } from './common.js';

/** What gathering reads from the flags (the CLI's and the wizard's flags both fit). */
export type HostFactsFlags = Pick<CreateFlagsInput, 'fs' | 'binds'>;

export interface HostFactsOptions {
  /** where bridges are looked up (tests) */
  sysClassNet?: string;
}

/** Names of pods that have a state file (pods/NAME/state). */
export async function existingPods(ctx: Pick<Ctx, 'layout'>): Promise<string[]> {
  const pods: string[] = [];
  for (const e of await readdir(ctx.layout.podsDir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && (await exists(ctx.layout.podState(e.name)))) pods.push(e.name);
  }
  return pods.sort();
}

/** Bind host paths (HOST:CONTAINER[:ro]) that are block or character devices. */
export async function deviceBindSources(binds: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const b of binds) {
    const host = b.split(':')[0] ?? '';
    const st = await stat(host).catch(() => undefined);
    if (st && (st.isBlockDevice() || st.isCharacterDevice())) out.add(host);
  }
  return out;
}

/** Whether rootfs fs/NAME has an sdme-oci-*.service unit; undefined for an invalid or absent -r. */
export async function rootfsHasOciApp(ctx: Pick<Ctx, 'layout'>, fs: string | undefined): Promise<boolean | undefined> {
  if (fs === undefined || !isValidName(fs)) return undefined;
  for (const dir of ['etc/systemd/system', 'etc/systemd/system.control']) {
    const names = await readdir(join(ctx.layout.fsPath(fs), dir)).catch(() => [] as string[]);
    if (names.some((n) => /^sdme-oci-.+\.service$/.test(n))) return true;
  }
  return false;
}

export async function gatherCreateHostFacts(
  ctx: Pick<Ctx, 'layout'>,
  client: { version(): Promise<number> },
  flags: HostFactsFlags,
  opts: HostFactsOptions = {},
): Promise<CreateHostFacts> {
  const sysClassNet = opts.sysClassNet ?? SYS_CLASS_NET;
  const [systemdVersion, pods, hostDevices, hasOciApp] = await Promise.all([
    client.version(),
    existingPods(ctx),
    deviceBindSources(flags.binds ?? []),
    rootfsHasOciApp(ctx, flags.fs),
  ]);
  return { systemdVersion, pods, hostDevices, rootfsHasOciApp: hasOciApp, bridgeExists: (b) => bridgeExists(b, sysClassNet) };
}
