/**
 * `-p/--port` specs (network-pods-security.md §1). We accept nspawn's own
 * syntax `[tcp:|udp:]HOST[:CONTAINER]` and the docker-like `HOST:CONTAINER/proto`,
 * which is rewritten to `proto:HOST:CONTAINER` so nspawn understands it.
 */
import { showName } from '../catalogue/names.js';
import { SdmeError } from '../errors.js';

export interface PortSpec {
  proto?: 'tcp' | 'udp';
  host: number;
  container?: number;
}

function portNumber(s: string): number | undefined {
  if (!/^\d{1,5}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Parse a port spec; throws SdmeError naming the spec. */
export function parsePort(spec: string): PortSpec {
  const bad = () =>
    new SdmeError(
      `invalid --port '${showName(spec)}': expected [tcp:|udp:]HOST[:CONTAINER] or HOST:CONTAINER/tcp|udp, ports 1-65535`,
    );
  let rest = spec;
  let proto: 'tcp' | 'udp' | undefined;
  const pre = /^(tcp|udp):/.exec(rest);
  if (pre) {
    proto = pre[1] as 'tcp' | 'udp';
    rest = rest.slice(pre[0].length);
  }
  const post = /\/(tcp|udp)$/.exec(rest);
  if (post) {
    if (proto) throw bad(); // protocol given twice
    proto = post[1] as 'tcp' | 'udp';
    rest = rest.slice(0, -post[0].length);
  }
  const parts = rest.split(':');
  if (parts.length > 2) throw bad();
  const host = portNumber(parts[0]!);
  if (host === undefined) throw bad();
  if (parts.length === 1) return proto ? { proto, host } : { host };
  const container = portNumber(parts[1]!);
  if (container === undefined) throw bad();
  return proto ? { proto, host, container } : { host, container };
}

/** nspawn `--port=` syntax of a parsed spec. */
export function formatPort(p: PortSpec): string {
  const hc = p.container === undefined ? `${p.host}` : `${p.host}:${p.container}`;
  return p.proto ? `${p.proto}:${hc}` : hc;
}

/** Validate and normalise one spec (`8080:80/udp` -> `udp:8080:80`, `tcp:443` stays). */
export function normalizePort(spec: string): string {
  return formatPort(parsePort(spec));
}

/**
 * nspawn refuses two specs with the same protocol and host port ("Duplicate
 * port specification", tcp when none is given) and then fails at boot:
 * refuse them up front, naming the port.
 */
export function assertUniquePorts(specs: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const p = parsePort(spec);
    const key = `${p.proto ?? 'tcp'}:${p.host}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new SdmeError(
        `invalid --port '${showName(spec)}': ${p.proto ?? 'tcp'} host port ${p.host} is already forwarded by '${showName(first)}'`,
      );
    }
    seen.set(key, spec);
  }
}
