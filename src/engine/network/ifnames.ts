/**
 * Host-side interface names and their 15-byte limit (case veth-name-collisions).
 * nspawn (v245+ naming schemes, so 252) names the host end `ve-NAME`
 * (`vb-NAME` with --network-bridge/--network-zone) and, when that exceeds 15
 * bytes, keeps the first 11 bytes and appends 4 url-safe base64 chars of a
 * SipHash of the full name. Distinct names can still collide (same 11-byte
 * prefix and a 24-bit hash clash), so create/start check for clashes.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SdmeError } from '../errors.js';
import type { ContainerState } from '../types.js';
import { siphash24 } from './siphash24.js';

export const IFNAMSIZ = 16;

/** SHORTEN_IFNAME_HASH_KEY from systemd src/nspawn/nspawn-network.c. */
const SHORTEN_IFNAME_HASH_KEY = Uint8Array.from([
  0xe1, 0x90, 0xa4, 0x04, 0xa8, 0xef, 0x4b, 0x51, 0x8c, 0xcc, 0xc3, 0x3a, 0x9f, 0x11, 0xfc, 0xa2,
]);
const URLSAFE_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** nspawn's shorten_ifname(): unchanged if <= 15 bytes, else 11-byte prefix + 4-char hash. */
export function shortenIfname(ifname: string): string {
  const bytes = new TextEncoder().encode(ifname);
  if (bytes.length < IFNAMSIZ) return ifname;
  const h = siphash24(bytes, SHORTEN_IFNAME_HASH_KEY);
  const c = (shift: bigint) => URLSAFE_B64[Number((h >> shift) & 63n)]!;
  const prefix = new TextDecoder().decode(bytes.subarray(0, IFNAMSIZ - 5));
  return `${prefix}${c(18n)}${c(12n)}${c(6n)}${c(0n)}`;
}

type NetFields = Pick<ContainerState, 'name' | 'networkVeth' | 'networkBridge' | 'networkZone'>;

/** Host-side veth name nspawn will create for this container, or undefined without a veth. */
export function hostVethName(s: NetFields): string | undefined {
  const bridged = s.networkBridge !== undefined || s.networkZone !== undefined;
  if (!bridged && !s.networkVeth) return undefined;
  return shortenIfname(`${bridged ? 'vb' : 've'}-${s.name}`);
}

/** Host interface of a pod attached with `pod net attach` (`ve-pod-P` / `vb-pod-P`), shortened like nspawn does. */
export function podHostIfaceName(pod: string, mode: 'veth' | 'zone'): string {
  return shortenIfname(`${mode === 'zone' ? 'vb' : 've'}-pod-${pod}`);
}

/** Another owner of a host interface name: a container or an attached pod. */
export interface IfaceOwner {
  kind: 'container' | 'pod';
  name: string;
  ifname: string;
}

/** Interface owners derived from container states (containers without a veth are skipped). */
export function containerIfaceOwners(states: readonly NetFields[]): IfaceOwner[] {
  const out: IfaceOwner[] = [];
  for (const s of states) {
    const ifname = hostVethName(s);
    if (ifname !== undefined) out.push({ kind: 'container', name: s.name, ifname });
  }
  return out;
}

/**
 * Throws SdmeError when the candidate's host interface name equals one
 * already owned by a different container or pod (the second would fail at
 * boot with "File exists").
 */
export function assertNoIfnameClash(candidate: NetFields, others: readonly IfaceOwner[]): void {
  const mine = hostVethName(candidate);
  if (mine === undefined) return;
  const clash = others.find((o) => o.ifname === mine && !(o.kind === 'container' && o.name === candidate.name));
  if (clash) {
    throw new SdmeError(
      `host interface name '${mine}' of container '${candidate.name}' clashes with ${clash.kind} '${clash.name}' ` +
        `(interface names are cut to 15 bytes); choose a different container name`,
    );
  }
}

/** Where the kernel lists network interfaces (a bridge has a `bridge/` subdir). */
export const SYS_CLASS_NET = '/sys/class/net';

/** Whether `name` is an existing bridge in this network namespace (`/sys/class/net/NAME/bridge`). */
export function bridgeExists(name: string, sysClassNet = SYS_CLASS_NET): boolean {
  // validated names only: no `/` or `..` can reach the path
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return false;
  try {
    return statSync(join(sysClassNet, name, 'bridge')).isDirectory();
  } catch {
    return false;
  }
}

/** Throws SdmeError when --network-bridge B names no bridge on this host (nspawn would fail at boot). */
export function assertBridgeExists(name: string, sysClassNet = SYS_CLASS_NET): void {
  if (!bridgeExists(name, sysClassNet)) {
    throw new SdmeError(
      `bridge '${name}' does not exist on this host (create it first, e.g. 'ip link add ${name} type bridge', or use --network-veth / --network-zone)`,
    );
  }
}
