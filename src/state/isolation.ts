/**
 * Isolation summary beside Docker's defaults (docker run with no flags):
 * 14 capabilities, no user namespace, default seccomp profile, AppArmor
 * docker-default, no no-new-privileges, private bridge network, writable root.
 */
import type { ContainerState } from '../engine/types.js';
import { NSPAWN_DEFAULT_CAPS, normalizeCap } from '../engine/security/caps.js';
import { DOCKER_DEFAULT_CAPS } from '../engine/security/baselines.js';
import type { IsolationItem, IsolationSummary } from './engine-port.js';

export { DOCKER_DEFAULT_CAPS };

/** The facts the summary is made of (from a resolved state or a live /proc read). */
export interface IsolationFacts {
  /** bounding set, CAP_-prefixed */
  caps: string[];
  userns: boolean;
  noNewPrivs: boolean;
  /** 'host' | 'private' | 'veth' | 'zone' | 'pod' */
  network: string;
  syscallFilter: string[];
  apparmor: string | null;
  readOnly: boolean;
}

const DANGEROUS = ['CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_NET_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT'];

export function isolationSummary(f: IsolationFacts): IsolationSummary {
  const items: IsolationItem[] = [];
  const extra = f.caps.filter((c) => !DOCKER_DEFAULT_CAPS.includes(c));
  const fewer = DOCKER_DEFAULT_CAPS.filter((c) => !f.caps.includes(c));
  const risky = extra.filter((c) => DANGEROUS.includes(c)).map((c) => c.replace(/^CAP_/, ''));
  items.push({
    label: 'capabilities',
    ours: `${f.caps.length}${risky.length ? ` (+${risky.slice(0, 3).join(',')}${risky.length > 3 ? ',…' : ''})` : ''}`,
    docker: String(DOCKER_DEFAULT_CAPS.length),
    verdict: extra.length === 0 && fewer.length === 0 ? 'same' : extra.length === 0 ? 'stronger' : 'weaker',
  });
  items.push({
    label: 'user namespace',
    ours: f.userns ? 'yes (root unmapped)' : 'no (root is host root)',
    docker: 'no',
    verdict: f.userns ? 'stronger' : 'same',
  });
  items.push({
    label: 'no-new-privileges',
    ours: f.noNewPrivs ? 'yes' : 'no',
    docker: 'no',
    verdict: f.noNewPrivs ? 'stronger' : 'same',
  });
  items.push({
    label: 'seccomp',
    ours: f.syscallFilter.length ? `nspawn default + ${f.syscallFilter.join(',')}` : 'nspawn default',
    docker: 'docker default',
    verdict: f.syscallFilter.length ? 'stronger' : 'same',
  });
  items.push({
    label: 'AppArmor',
    ours: f.apparmor ?? 'none',
    docker: 'docker-default',
    verdict: f.apparmor ? 'same' : 'weaker',
  });
  items.push({
    label: 'network',
    ours: f.network === 'host' ? 'host (shared)' : f.network,
    docker: 'private bridge',
    verdict: f.network === 'host' ? 'weaker' : 'same',
  });
  items.push({
    label: 'read-only root',
    ours: f.readOnly ? 'yes' : 'no',
    docker: 'no',
    verdict: f.readOnly ? 'stronger' : 'same',
  });
  return { items, notes: [] };
}

/** Network mode of a resolved state, as the summary shows it. */
export function networkOfState(s: Pick<ContainerState, 'pod' | 'networkZone' | 'networkBridge' | 'networkVeth' | 'privateNetwork'>): string {
  if (s.pod !== undefined) return 'pod';
  if (s.networkZone !== undefined) return 'zone';
  if (s.networkBridge !== undefined) return 'bridge';
  if (s.networkVeth) return 'veth';
  return s.privateNetwork ? 'private' : 'host';
}

/**
 * What a resolved state (createFlagsToState's) gives at run time: nspawn's
 * default bounding set, plus CAP_NET_ADMIN when nspawn gets --private-network
 * (not for a pod, which joins a netns instead), plus --capability, minus
 * --drop-capability (drops win, as in nspawn).
 */
export function isolationFromState(s: ContainerState): IsolationFacts {
  const drops = new Set(s.dropCaps.map(normalizeCap));
  const caps = [...NSPAWN_DEFAULT_CAPS];
  if (s.privateNetwork && s.pod === undefined) caps.push('CAP_NET_ADMIN');
  for (const c of s.addCaps.map(normalizeCap)) if (!caps.includes(c)) caps.push(c);
  return {
    caps: caps.filter((c) => !drops.has(c)),
    userns: s.userns,
    noNewPrivs: s.noNewPrivs,
    network: networkOfState(s),
    syscallFilter: s.syscallFilter,
    apparmor: s.apparmorProfile ?? null,
    readOnly: s.readOnly,
  };
}
