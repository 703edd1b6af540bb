/**
 * Pods (network-pods-security.md §2): a persistent record under `pods/NAME`
 * plus a volatile netns at `/run/sdme/pods/NAME/netns` holding only `lo`.
 * new / ls / rm, ensurePodRuntime (recreate after reboot, restore attached
 * networking) and the start-time hook for member containers.
 */
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createNetns, ensureSharedMountDir, findNetnsTools, isNsfsMount, removeNetns } from '../../native/netns.js';
import { mountsUnder } from '../../native/mountinfo.js';
import { run, which } from '../../native/run.js';
import { ensureDataDir } from '../catalogue/datadir.js';
import { validateName } from '../catalogue/names.js';
import type { Ctx } from '../context.js';
import { SdmeError, checkInterrupt } from '../errors.js';
import type { ContainerState } from '../types.js';
import { applyResolvConf, attachLocked, hostLinkExists, podAddresses, podNetUnit, removeIdleBridge } from './pod-net.js';
import {
  listPodNames,
  lockExistingPod,
  lockPod,
  membersByPod,
  podExists,
  podNetnsFile,
  podRuntime,
  podRuntimeDir,
  readPodState,
  withoutNet,
  writePodState,
  type PodMember,
  type PodNetMode,
  type PodState,
} from './pod-state.js';

export { podExists };

/** How long a start waits for another process holding `pods/NAME`. */
const ENSURE_LOCK_WAIT_MS = 15_000;

function tools() {
  const { tools: t, missing } = findNetnsTools();
  if (!t) throw new SdmeError(`pods need: ${missing.join(', ')} (install util-linux and iproute2)`);
  return t;
}

/** Create the netns (runtime dir made a shared mount first). Throws SdmeError. */
async function makeNetns(pod: string): Promise<void> {
  const t = tools();
  try {
    ensureSharedMountDir(podRuntime.dir);
    await createNetns(podNetnsFile(pod), t);
  } catch (e) {
    if (e instanceof SdmeError) throw e;
    throw new SdmeError(`cannot create network namespace for pod '${pod}': ${(e as Error).message}`, { cause: e });
  }
}

export interface NewPodOptions {
  attach?: PodNetMode;
  zone?: string;
}

/** `pod new NAME [--attach veth|zone] [--zone Z]`. */
export async function createPod(ctx: Ctx, name: string, opts: NewPodOptions = {}): Promise<void> {
  validateName(name, 'pod');
  if (opts.zone !== undefined && opts.attach !== 'zone') throw new SdmeError('--zone needs --attach zone');
  if (opts.attach === 'zone' && !opts.zone) throw new SdmeError('--attach zone needs --zone ZONE');
  const held = await lockPod(ctx, name);
  try {
    const dir = ctx.layout.podDir(name);
    await ensureDataDir(ctx.layout, ['pods']);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SdmeError(`pod '${name}' already exists`);
      throw e;
    }
    let state: PodState;
    try {
      checkInterrupt(ctx.signal);
      // a stale runtime netns (pod removed by hand) is replaced
      if (isNsfsMount(podNetnsFile(name))) removeNetns(podNetnsFile(name));
      await makeNetns(name);
      state = { name, created: Math.floor(Date.now() / 1000), netDns: [], netSearch: [], extra: {} };
      await writePodState(ctx, state);
    } catch (e) {
      removeNetns(podNetnsFile(name));
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
    if (opts.attach) {
      try {
        await attachLocked(ctx, state, opts.attach, opts.zone);
      } catch (e) {
        ctx.note(`pod '${name}' was created without external networking`);
        throw e;
      }
    }
  } finally {
    // a create that failed before the pod existed leaves no lock file
    held.release({ unlinkIfOwner: !(await podExists(ctx, name)) });
  }
}

/**
 * Called before a member starts (and usable after a reboot): the pod must
 * exist; a missing (or unmounted) netns is recreated; attached networking
 * whose host interface is gone is re-attached.
 */
export async function ensurePodRuntime(ctx: Ctx, name: string): Promise<PodState> {
  let state = await readPodState(ctx, name);
  const live = isNsfsMount(podNetnsFile(name));
  const needsNet = state.netMode !== undefined && state.netHostIface !== undefined;
  if (live && !needsNet) return state;
  if (live && needsNet && (await hostLinkExists(tools().ip, state.netHostIface!))) return state;

  const held = await lockExistingPod(ctx, name, ENSURE_LOCK_WAIT_MS);
  try {
    state = await readPodState(ctx, name);
    if (!isNsfsMount(podNetnsFile(name))) {
      ctx.note(`recreating network namespace of pod '${name}'`);
      removeNetns(podNetnsFile(name), false);
      await makeNetns(name);
    }
    if (state.netMode !== undefined && !(state.netHostIface && (await hostLinkExists(tools().ip, state.netHostIface)))) {
      const { netMode, netZone } = state;
      ctx.note(`restoring ${netMode} networking of pod '${name}'`);
      const systemctl = which('systemctl');
      if (systemctl) await run(systemctl, ['stop', podNetUnit(name)], { timeoutMs: 30_000 });
      state = withoutNet(state);
      await writePodState(ctx, state);
      state = await attachLocked(ctx, state, netMode, netZone);
    }
    return state;
  } finally {
    held.release();
  }
}

/** True when a `--pod` member must get the generated resolv.conf (and nspawn --resolv-conf=off). */
export async function podHasDns(ctx: Ctx, pod: string): Promise<boolean> {
  const s = await readPodState(ctx, pod).catch(() => undefined);
  return (s?.netDns.length ?? 0) > 0;
}

/**
 * Start hook for a container: ensure the runtime of its `--pod` and
 * `--oci-pod`, and write (or drop) the pod resolv.conf in its upper dir.
 * Call before the drop-in is rendered.
 */
export async function preparePodsForStart(ctx: Ctx, s: ContainerState): Promise<void> {
  if (s.ociPod !== undefined && s.ociPod !== s.pod) await ensurePodRuntime(ctx, s.ociPod);
  if (s.pod === undefined) return;
  const pod = await ensurePodRuntime(ctx, s.pod);
  if (s.extra.KUBE_YAML_HASH !== undefined) return;
  await mkdir(join(ctx.layout.upper(s.name), 'etc'), { recursive: true, mode: 0o755 });
  await applyResolvConf(ctx.layout.upper(s.name), pod);
}

export interface RemovePodOptions {
  force?: boolean;
  /** full container removal used by `-f` (the CLI passes containers/rm) */
  removeMember?: (name: string) => Promise<void>;
}

/** `pod rm NAME [-f]`: refused with members unless -f, which removes them first. */
export async function removePod(ctx: Ctx, name: string, opts: RemovePodOptions = {}): Promise<void> {
  const state = await readPodState(ctx, name);
  const members = (await membersByPod(ctx)).get(name) ?? [];
  if (members.length > 0 && !opts.force) {
    throw new SdmeError(
      `pod '${name}' is used by container${members.length > 1 ? 's' : ''} ${members.map((m) => `'${m.name}'`).join(', ')}; ` +
        `remove ${members.length > 1 ? 'them' : 'it'} first or use -f`,
    );
  }
  for (const m of members) {
    try {
      if (!opts.removeMember) throw new SdmeError('no remover given');
      await opts.removeMember(m.name);
    } catch (e) {
      ctx.note(`warning: could not remove container '${m.name}': ${(e as Error).message}`);
    }
  }
  const held = await lockExistingPod(ctx, name);
  let removed = false;
  try {
    if (state.netMode !== undefined) {
      const systemctl = which('systemctl');
      const ip = which('ip');
      if (systemctl) await run(systemctl, ['stop', podNetUnit(name)], { timeoutMs: 30_000 });
      if (ip && state.netHostIface) await run(ip, ['link', 'del', state.netHostIface], { timeoutMs: 10_000 });
      if (ip && state.netMode === 'zone' && state.netZone) await removeIdleBridge(ip, `vz-${state.netZone}`);
    }
    removeNetns(podNetnsFile(name), false);
    const rdir = podRuntimeDir(name);
    const left = mountsUnder(rdir);
    if (left.length > 0) throw new SdmeError(`pod '${name}': ${left.join(', ')} is still mounted; not removing ${rdir}`);
    await rm(rdir, { recursive: true, force: true });
    await rm(ctx.layout.podDir(name), { recursive: true, force: true });
    removed = true;
  } finally {
    // a removed pod leaves no lock file behind
    held.release({ unlinkIfOwner: removed });
  }
  await rmdir(podRuntime.dir).catch(() => undefined);
}

/** One `pod ls` row; the JSON shape of `pod ls --json`. */
export interface PodInfo {
  name: string;
  /** local `YYYY-MM-DD HH:MM` */
  created: string;
  /** unix seconds */
  created_at: number;
  active: boolean;
  net_mode: PodNetMode | null;
  net_zone: string | null;
  dns: string[];
  search: string[];
  addresses: string[];
  containers: PodMember[];
}

export function formatCreated(unixSec: number): string {
  if (!unixSec) return '-';
  const d = new Date(unixSec * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function podInfo(s: PodState, active: boolean, members: PodMember[], addresses: string[]): PodInfo {
  return {
    name: s.name,
    created: formatCreated(s.created),
    created_at: s.created,
    active,
    net_mode: s.netMode ?? null,
    net_zone: s.netZone ?? null,
    dns: [...s.netDns],
    search: [...s.netSearch],
    addresses,
    containers: members,
  };
}

export async function listPods(ctx: Ctx): Promise<PodInfo[]> {
  const members = await membersByPod(ctx);
  const out: PodInfo[] = [];
  for (const name of await listPodNames(ctx)) {
    let s: PodState;
    try {
      s = await readPodState(ctx, name);
    } catch (e) {
      ctx.note(`warning: pod '${name}': ${(e as Error).message}`);
      continue;
    }
    const active = isNsfsMount(podNetnsFile(name));
    const addrs = active && s.netMode !== undefined ? await podAddresses(name) : [];
    out.push(podInfo(s, active, members.get(name) ?? [], addrs));
  }
  return out;
}
