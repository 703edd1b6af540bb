/**
 * ps (lifecycle.md §13) with one D-Bus connection: one ListUnitsByPatterns
 * for all sdme@*.service, one ListMachines; `is-system-running` only for
 * running containers, in parallel.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../native/run.js';
import { listStateNames, readState } from '../catalogue/container-state.js';
import { parseKV } from '../catalogue/kv.js';
import { unitName } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import type { SystemdClient } from '../systemd/dbus.js';
import type { ContainerInfo, ContainerState, ContainerStatus } from '../types.js';
import { exists, withSystemd } from './common.js';
import { hasInterface } from './create.js';
import { podAddresses } from '../network/pod-net.js';
import { readPodState } from '../network/pod-state.js';

export function statusFromActiveState(active: string | undefined): ContainerStatus {
  if (active === 'active' || active === 'reloading') return 'running';
  if (active === 'activating') return 'starting';
  if (active === 'deactivating') return 'stopping';
  return 'stopped';
}

/** `is-system-running` output -> HEALTH (running->ok, empty/error->unknown, else verbatim). */
export function healthFromSystemState(stdout: string | undefined): string {
  const s = (stdout ?? '').trim().split('\n')[0]!.trim();
  if (s === 'running') return 'ok';
  if (s === '') return 'unknown';
  return s;
}

/** PRETTY_NAME, else NAME, quotes stripped; undefined when neither. */
export function osFromOsRelease(text: string): string | undefined {
  let kv: Record<string, string>;
  try {
    kv = parseKV(
      text
        .split('\n')
        .filter((l) => l.includes('=') && !l.trim().startsWith('#'))
        .join('\n'),
    );
  } catch {
    return undefined;
  }
  const strip = (v: string | undefined) => v?.replace(/^["']|["']$/g, '').trim() || undefined;
  return strip(kv.PRETTY_NAME) ?? strip(kv.NAME);
}

async function osOf(root: string): Promise<string | undefined> {
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    const text = await readFile(join(root, rel), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const os = osFromOsRelease(text);
      if (os) return os;
    }
  }
  return undefined;
}

/** OS cascade: merged, upper, the lower rootfs (or / for host clones), else unknown. */
async function osCascade(ctx: Ctx, name: string, rootfs: string): Promise<string> {
  const L = ctx.layout;
  const lower = rootfs === '' ? '/' : L.fsPath(rootfs);
  for (const root of [L.merged(name), L.upper(name), lower]) {
    const os = await osOf(root);
    if (os) return os;
  }
  return 'unknown';
}

/** Relative paths REL that have submounts/REL/{upper,work} (nested ones included). */
export async function listSubmounts(dir: string, rel = ''): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const dirs = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  const leaf = rel !== '' && dirs.includes('upper') && dirs.includes('work');
  const out: string[] = leaf ? [rel] : [];
  for (const d of dirs) {
    if (leaf && (d === 'upper' || d === 'work')) continue;
    out.push(...(await listSubmounts(dir, rel ? `${rel}/${d}` : d)));
  }
  return out.sort();
}

async function systemHealth(name: string): Promise<string> {
  const r = await run('systemctl', [`--machine=${name}`, 'is-system-running'], { timeoutMs: 10_000 });
  return healthFromSystemState(r.stdout);
}

/** Addresses of a pod with an external network (NET_MODE), else []. */
async function attachedPodAddresses(ctx: Ctx, pod: string): Promise<string[]> {
  try {
    if ((await readPodState(ctx, pod)).netMode === undefined) return [];
    return await podAddresses(pod);
  } catch {
    return [];
  }
}

export interface ListOptions {
  client?: SystemdClient;
  /** skip the per-container health probe (TUI refresh) */
  skipHealth?: boolean;
}

export async function listContainers(ctx: Ctx, opts: ListOptions = {}): Promise<ContainerInfo[]> {
  const L = ctx.layout;
  const names = await listStateNames(L);
  if (names.length === 0) return [];
  return withSystemd(opts.client, async (client) => {
    const units = await client.unitStates(['sdme@*.service']);
    const machines = new Set((await client.listMachines()).map((m) => m.name));
    const podAddrs = new Map<string, Promise<string[]>>();
    const podAddressesOnce = (pod: string) => {
      let p = podAddrs.get(pod);
      if (!p) podAddrs.set(pod, (p = attachedPodAddresses(ctx, pod)));
      return p;
    };
    return Promise.all(
      names.map((name) =>
        containerInfo(ctx, name, {
          unit: units.get(unitName(name)),
          registered: machines.has(name),
          client,
          skipHealth: opts.skipHealth ?? false,
          podAddresses: podAddressesOnce,
        }),
      ),
    );
  });
}

async function containerInfo(
  ctx: Ctx,
  name: string,
  env: {
    unit: { activeState: string } | undefined;
    registered: boolean;
    client: SystemdClient;
    skipHealth: boolean;
    podAddresses: (pod: string) => Promise<string[]>;
  },
): Promise<ContainerInfo> {
  const L = ctx.layout;
  const problems: string[] = [];
  let s: ContainerState | undefined;
  try {
    s = await readState(L, name);
  } catch {
    problems.push('unreadable state file');
  }
  if (!(await exists(L.containerDir(name)))) problems.push('missing container dir');
  if (s && s.rootfs !== '' && !(await exists(L.fsPath(s.rootfs)))) problems.push('missing fs');
  const active = env.unit?.activeState;
  const status = statusFromActiveState(active);
  let health: string;
  if (problems.length > 0) health = problems.join(', ');
  else if (active === 'failed') health = 'failed';
  else if (status === 'running' && env.skipHealth) health = 'ok';
  else if (status === 'running') health = await systemHealth(name);
  else health = 'ok';

  const rootfs = s?.rootfs ?? '';
  let addresses: string[] = [];
  if (s && status === 'running' && env.registered && hasInterface(s)) {
    addresses = await env.client.machineAddresses(name).catch(() => []);
  }
  // a pod member lives in the pod's netns: its addresses are the pod's (when attached)
  if (s?.pod && status === 'running' && addresses.length === 0) addresses = await env.podAddresses(s.pod);
  const kube =
    s && s.extra.KUBE_YAML_HASH !== undefined
      ? { yaml_hash: s.extra.KUBE_YAML_HASH, has_probes: s.extra.HAS_PROBES === 'yes' }
      : null;
  return {
    name,
    status,
    health,
    os: await osCascade(ctx, name, rootfs),
    rootfs,
    userns: s?.userns ?? false,
    enabled: s?.enabled === true,
    binds: (s?.binds ?? []).map((b) => `${b.host}:${b.container}:${b.mode}`),
    oci_apps: s?.ociApp
      ? [{ name: s.ociApp, env: [], ports: [...s.ports], volumes: [...s.ociVolumes] }]
      : [],
    submounts: await listSubmounts(join(L.containerDir(name), 'submounts')),
    network: {
      private_network: s?.privateNetwork ?? false,
      network_veth: s?.networkVeth ?? false,
      network_bridge: s?.networkBridge ?? null,
      network_zone: s?.networkZone ?? null,
      ports: [...(s?.ports ?? [])],
      pod: s?.pod ?? null,
      oci_pod: s?.ociPod ?? null,
    },
    limits: {
      memory: s?.memory ?? null,
      cpus: s?.cpus ?? null,
      cpu_weight: s?.cpuWeight ?? null,
      disk: s?.extra.DISK ?? null,
    },
    disk_used: null,
    kube,
    addresses,
  };
}
