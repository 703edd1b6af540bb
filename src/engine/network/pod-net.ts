/**
 * `pod net attach|detach` (network-pods-security.md §2): a veth pair from the
 * host (or a zone bridge) into the pod netns, dhcpcd inside the netns as
 * `sdme-pod-net@POD.service`, and DNS from the lease handed to members.
 *
 * dhcpcd runs with no hooks (`-c /bin/true`: its resolv.conf/hostname hooks
 * would edit the HOST's files, the unit only changes the netns) and with
 * per-pod /run/dhcpcd and /var/lib/dhcpcd (every pod's interface is `host0`,
 * so shared pid/lease files would clash). DNS is read from the lease file.
 */
import { mkdir, readFile, rename, rm, writeFile, stat, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { findNetnsTools, parseIpOneline, runInNetns, isNsfsMount, type NetnsTools } from '../../native/netns.js';
import { run, which } from '../../native/run.js';
import { listStateNames, readState } from '../catalogue/container-state.js';
import { showName } from '../catalogue/names.js';
import { POD_NET_TEMPLATE_NAME, POD_NET_TEMPLATE_PATH } from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import { SdmeError } from '../errors.js';
import { containerIfaceOwners, podHostIfaceName, type IfaceOwner } from './ifnames.js';
import {
  isGeneratedResolvConf,
  listPodNames,
  lockExistingPod,
  podMembers,
  podNetnsFile,
  podRuntime,
  podRuntimeDir,
  readPodState,
  renderPodResolvConf,
  withoutNet,
  writePodState,
  type PodNetMode,
  type PodState,
} from './pod-state.js';

/** Inside the pod netns the interface is always `host0`. */
export const POD_IFACE = 'host0';
const DHCP_WAIT_MS = 60_000;

export function podNetUnit(pod: string): string {
  return POD_NET_TEMPLATE_NAME.replace('@.', `@${pod}.`);
}

/** The volatile template unit (%i = pod name). */
export function renderPodNetUnit(dhcpcd: string, runDir: string): string {
  return (
    '[Unit]\n' +
    'Description=sdme pod %i network (DHCP client in the pod network namespace)\n' +
    '\n' +
    '[Service]\n' +
    'Type=forking\n' +
    `NetworkNamespacePath=${runDir}/%i/netns\n` +
    `BindPaths=${runDir}/%i/dhcpcd:/run/dhcpcd ${runDir}/%i/dhcpcd-db:/var/lib/dhcpcd\n` +
    `ExecStart=${dhcpcd} -f /dev/null -c /bin/true -o domain_name_servers -o domain_name -o domain_search ` +
    `--waitip=4 ${POD_IFACE}\n`
  );
}

export interface LeaseDns {
  dns: string[];
  search: string[];
}

/** RFC 1035 names as used by DHCP option 119 (compression pointers into the option data). */
function decodeDomainList(data: Buffer): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < data.length) {
    const labels: string[] = [];
    let p = i;
    let jumped = false;
    let hops = 0;
    for (;;) {
      if (p >= data.length) return out;
      const len = data[p]!;
      if (len === 0) {
        if (!jumped) i = p + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (p + 1 >= data.length || ++hops > 32) return out;
        if (!jumped) i = p + 2;
        jumped = true;
        p = ((len & 0x3f) << 8) | data[p + 1]!;
        continue;
      }
      labels.push(data.subarray(p + 1, p + 1 + len).toString('latin1'));
      p += 1 + len;
    }
    if (labels.length > 0) out.push(labels.join('.'));
  }
  return out;
}

const DOMAIN_RE = /^[A-Za-z0-9.-]+$/;

/**
 * DNS servers (option 6), domain search (119) and domain name (15) from a
 * dhcpcd lease file (the raw BOOTP/DHCP reply), deduplicated; values that
 * would not be safe in resolv.conf are dropped.
 */
export function parseDhcpLease(buf: Buffer): LeaseDns {
  const dns: string[] = [];
  const search: string[] = [];
  const COOKIE = 236;
  if (buf.length < COOKIE + 4 || buf.readUInt32BE(COOKIE) !== 0x63825363) return { dns, search };
  const chunks = new Map<number, Buffer[]>();
  for (let i = COOKIE + 4; i < buf.length; ) {
    const code = buf[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255 || i + 1 >= buf.length) break;
    const len = buf[i + 1]!;
    const data = buf.subarray(i + 2, Math.min(i + 2 + len, buf.length));
    // long options may be split over several instances (RFC 3396)
    chunks.set(code, [...(chunks.get(code) ?? []), data]);
    i += 2 + len;
  }
  const opt = (code: number) => (chunks.has(code) ? Buffer.concat(chunks.get(code)!) : undefined);
  const addUnique = (list: string[], v: string) => {
    if (!list.includes(v)) list.push(v);
  };
  const servers = opt(6);
  if (servers) {
    for (let i = 0; i + 4 <= servers.length; i += 4) addUnique(dns, [...servers.subarray(i, i + 4)].join('.'));
  }
  const sr = opt(119);
  if (sr) for (const d of decodeDomainList(sr)) if (DOMAIN_RE.test(d)) addUnique(search, d);
  const dn = opt(15);
  if (dn) {
    const d = dn.toString('latin1').replace(/\0+$/, '').trim();
    if (d !== '' && DOMAIN_RE.test(d)) addUnique(search, d);
  }
  return { dns, search };
}

/**
 * The pod's host interface name, refused when another pod or a container
 * already owns the same (15-byte, possibly hashed) name.
 */
export function podIfaceFor(pod: string, mode: PodNetMode, owners: readonly IfaceOwner[]): string {
  const ifname = podHostIfaceName(pod, mode);
  const clash = owners.find((o) => o.ifname === ifname && !(o.kind === 'pod' && o.name === pod));
  if (clash) {
    throw new SdmeError(
      `host interface name '${ifname}' of pod '${pod}' clashes with ${clash.kind} '${clash.name}' ` +
        `(interface names are cut to 15 bytes); choose a different pod name`,
    );
  }
  return ifname;
}

/** Host interfaces owned by attached pods and by veth containers (for the clash check). */
export async function ifaceOwners(ctx: Ctx): Promise<IfaceOwner[]> {
  const owners: IfaceOwner[] = [];
  for (const p of await listPodNames(ctx)) {
    const s = await readPodState(ctx, p).catch(() => undefined);
    if (s?.netHostIface) owners.push({ kind: 'pod', name: p, ifname: s.netHostIface });
  }
  const states = [];
  for (const n of await listStateNames(ctx.layout)) {
    const s = await readState(ctx.layout, n).catch(() => undefined);
    if (s) states.push(s);
  }
  owners.push(...containerIfaceOwners(states));
  return owners;
}

export async function hostLinkExists(ip: string, ifname: string): Promise<boolean> {
  const r = await run(ip, ['link', 'show', 'dev', ifname], { timeoutMs: 10_000 });
  return r.exitCode === 0;
}

interface NetTools extends NetnsTools {
  dhcpcd: string;
  systemctl: string;
}

function netTools(): NetTools {
  const { tools, missing } = findNetnsTools();
  const dhcpcd = which('dhcpcd');
  const systemctl = which('systemctl');
  if (!dhcpcd) missing.push('dhcpcd (install dhcpcd-base)');
  if (!systemctl) missing.push('systemctl');
  if (!tools || !dhcpcd || !systemctl) throw new SdmeError(`pod networking needs: ${missing.join(', ')}`);
  return { ...tools, dhcpcd, systemctl };
}

async function must(cmd: string, args: string[], what: string, timeoutMs = 30_000): Promise<void> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.exitCode !== 0) throw new SdmeError(`${what}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}

/** Lock-free attach; the caller holds `pods/NAME` and has checked the netns. Returns the new state. */
export async function attachLocked(ctx: Ctx, s: PodState, mode: PodNetMode, zone?: string): Promise<PodState> {
  const pod = s.name;
  if (s.netMode !== undefined) throw new SdmeError(`pod '${pod}' is already attached (${s.netMode}); detach it first`);
  if (mode === 'zone') {
    if (!zone) throw new SdmeError('zone mode needs a zone name: pod net attach NAME zone ZONE');
    if (!/^[A-Za-z0-9_-]+$/.test(zone)) throw new SdmeError(`invalid zone name '${showName(zone)}'`);
    if (Buffer.byteLength(`vz-${zone}`) > 15) throw new SdmeError(`zone name '${zone}' is too long (vz-${zone} exceeds 15 bytes)`);
  } else if (zone !== undefined) {
    throw new SdmeError('a zone name is only valid with zone mode');
  }
  const netns = podNetnsFile(pod);
  if (!isNsfsMount(netns)) {
    throw new SdmeError(`pod '${pod}' has no network namespace (${netns}); start a container in the pod first`);
  }
  const t = netTools();
  const iface = podIfaceFor(pod, mode, await ifaceOwners(ctx));
  if (await hostLinkExists(t.ip, iface)) {
    throw new SdmeError(`host interface '${iface}' for pod '${pod}' already exists; remove it or choose a different pod name`);
  }

  const unit = podNetUnit(pod);
  let started = false;
  try {
    if (mode === 'zone') {
      const bridge = `vz-${zone!}`;
      if (!(await hostLinkExists(t.ip, bridge))) {
        await must(t.ip, ['link', 'add', bridge, 'type', 'bridge'], `creating bridge ${bridge}`);
      }
      await must(t.ip, ['link', 'set', bridge, 'up'], `bringing ${bridge} up`);
    }
    await must(t.ip, ['link', 'add', iface, 'type', 'veth', 'peer', 'name', POD_IFACE, 'netns', netns], `creating veth ${iface}`);
    if (mode === 'zone') await must(t.ip, ['link', 'set', iface, 'master', `vz-${zone!}`], `adding ${iface} to vz-${zone!}`);
    await must(t.ip, ['link', 'set', iface, 'up'], `bringing ${iface} up`);
    const up = await runInNetns(netns, t, [t.ip, 'link', 'set', POD_IFACE, 'up']);
    if (up.exitCode !== 0) throw new SdmeError(`bringing ${POD_IFACE} up in pod '${pod}': ${up.stderr.trim()}`);

    const run1 = podRuntimeDir(pod);
    await mkdir(join(run1, 'dhcpcd'), { recursive: true, mode: 0o755 });
    await mkdir(join(run1, 'dhcpcd-db'), { recursive: true, mode: 0o750 });
    await rm(join(run1, 'dhcpcd-db', `${POD_IFACE}.lease`), { force: true });
    if (await writeUnitIfChanged(POD_NET_TEMPLATE_PATH, renderPodNetUnit(t.dhcpcd, podRuntime.dir))) {
      await must(t.systemctl, ['daemon-reload'], 'systemctl daemon-reload');
    }
    started = true;
    const st = await run(t.systemctl, ['start', unit], { timeoutMs: DHCP_WAIT_MS + 15_000 });
    if (st.exitCode !== 0) {
      throw new SdmeError(
        `${unit} failed (no DHCP lease for pod '${pod}'? the host needs systemd-networkd for ${iface}; see journalctl -u ${unit})`,
      );
    }
  } catch (e) {
    if (started) await run(t.systemctl, ['stop', unit], { timeoutMs: 30_000 });
    await run(t.ip, ['link', 'del', iface], { timeoutMs: 10_000 });
    throw e;
  }

  const lease = await readFile(join(podRuntimeDir(pod), 'dhcpcd-db', `${POD_IFACE}.lease`)).catch(() => Buffer.alloc(0));
  const { dns, search } = parseDhcpLease(lease);
  const next: PodState = { ...withoutNet(s), netMode: mode, netHostIface: iface, netDns: dns, netSearch: search };
  if (mode === 'zone') next.netZone = zone!;
  await writePodState(ctx, next);
  await syncMembersResolvConf(ctx, next);
  return next;
}

/** Lock-free detach (best effort on the host side). Returns the new state. */
export async function detachLocked(ctx: Ctx, s: PodState): Promise<PodState> {
  if (s.netMode === undefined) throw new SdmeError(`pod '${s.name}' is not attached`);
  const t = netTools();
  await run(t.systemctl, ['stop', podNetUnit(s.name)], { timeoutMs: 30_000 });
  if (s.netHostIface) await run(t.ip, ['link', 'del', s.netHostIface], { timeoutMs: 10_000 });
  if (s.netMode === 'zone' && s.netZone) await removeIdleBridge(t.ip, `vz-${s.netZone}`);
  const next = withoutNet(s);
  await writePodState(ctx, next);
  await syncMembersResolvConf(ctx, next);
  return next;
}

/** Delete a zone bridge once nothing is enslaved to it (nspawn drops its zones the same way). */
export async function removeIdleBridge(ip: string, bridge: string): Promise<void> {
  if (!/^vz-[A-Za-z0-9_-]+$/.test(bridge)) return;
  const ports = await run(ip, ['-o', 'link', 'show', 'master', bridge], { timeoutMs: 10_000 });
  if (ports.exitCode === 0 && ports.stdout.trim() === '') await run(ip, ['link', 'del', bridge], { timeoutMs: 10_000 });
}

export async function attachPodNet(ctx: Ctx, pod: string, mode: PodNetMode, zone?: string): Promise<PodState> {
  const held = await lockExistingPod(ctx, pod);
  try {
    return await attachLocked(ctx, await readPodState(ctx, pod), mode, zone);
  } finally {
    held.release();
  }
}

export async function detachPodNet(ctx: Ctx, pod: string): Promise<PodState> {
  const held = await lockExistingPod(ctx, pod);
  try {
    return await detachLocked(ctx, await readPodState(ctx, pod));
  } finally {
    held.release();
  }
}

/** Global addresses of `host0` in the pod netns ([] when not attached or not active). */
export async function podAddresses(pod: string): Promise<string[]> {
  const netns = podNetnsFile(pod);
  const nsenter = which('nsenter');
  const ip = which('ip');
  if (!nsenter || !ip || !isNsfsMount(netns)) return [];
  const r = await runInNetns(netns, { nsenter }, [ip, '-o', 'addr', 'show', 'dev', POD_IFACE]);
  return r.exitCode === 0 ? parseIpOneline(r.stdout) : [];
}

/** What create puts in upper; nspawn --resolv-conf=auto fills it at boot. */
export const RESOLV_PLACEHOLDER = '# placeholder; filled by systemd-nspawn --resolv-conf=auto\n';

/**
 * Write (pod has DNS) or remove (it has none) the generated resolv.conf at
 * `root/etc/resolv.conf`. Anything that is not our generated file is only
 * replaced when writing; a removal puts `fallback` back (nspawn's placeholder
 * for a stopped tree, the host's resolv.conf for a running one, as
 * --resolv-conf=auto would have copied it).
 */
export async function applyResolvConf(root: string, s: PodState, fallback = RESOLV_PLACEHOLDER): Promise<boolean> {
  const path = join(root, 'etc/resolv.conf');
  const text = renderPodResolvConf(s.netDns, s.netSearch);
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) {
    if (old === undefined || !isGeneratedResolvConf(old)) return false;
    await replaceFile(path, fallback, root);
    return true;
  }
  if (old === text) return false;
  await replaceFile(path, text, root);
  return true;
}

/** temp + rename (replaces a symlink instead of following it); owner copied from root. */
async function replaceFile(path: string, text: string, root: string): Promise<void> {
  const tmp = `${path}.sdme-${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  const owner = await stat(root).catch(() => undefined);
  if (owner) await chown(tmp, owner.uid, owner.gid).catch(() => undefined);
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Running members (merged mounted) get the new file live; stopped ones get it at start. */
async function syncMembersResolvConf(ctx: Ctx, s: PodState): Promise<void> {
  for (const m of await podMembers(ctx, s.name)) {
    if (m.pod_mode !== 'pod') continue;
    const cs = await readState(ctx.layout, m.name).catch(() => undefined);
    if (!cs || cs.extra.KUBE_YAML_HASH !== undefined) continue;
    const merged = ctx.layout.merged(m.name);
    if (!(await isDir(join(merged, 'etc')))) continue;
    try {
      const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => RESOLV_PLACEHOLDER);
      await applyResolvConf(merged, s, hostResolv);
    } catch (e) {
      ctx.note(`warning: ${m.name}: could not update resolv.conf: ${(e as Error).message}`);
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function writeUnitIfChanged(path: string, text: string): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === text) return false;
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.sdme-${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
  return true;
}
