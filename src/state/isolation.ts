/**
 * Isolation summary beside Docker's defaults (docker run with no flags):
 * 14 capabilities, no user namespace, default seccomp profile, AppArmor
 * docker-default, no no-new-privileges, private bridge network, writable root.
 */
import type { IsolationItem, IsolationSummary } from './engine-port.js';

export const DOCKER_DEFAULT_CAPS = [
  'CAP_AUDIT_WRITE', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SETFCAP', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SETUID', 'CAP_SYS_CHROOT',
];

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
