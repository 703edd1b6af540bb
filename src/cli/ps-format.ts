/**
 * `sdme ps` output (lifecycle.md §13): the text table and the JSON forms.
 * Pure: rows in, text out.
 */
import type { ContainerInfo } from '../engine/types.js';
import { SdmeError } from '../engine/errors.js';

/** Left-aligned columns, two-space gaps, width = max(content, header); no trailing spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - displayWidth(c))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Terminal width of plain text: code points (names/OS strings are not wide CJK in practice). */
function displayWidth(s: string): number {
  return [...s].length;
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

export function hasMounts(c: ContainerInfo): boolean {
  return c.binds.length > 0 || c.oci_apps.some((a) => a.volumes.length > 0) || c.submounts.length > 0;
}

export function formatBytes(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10}${units[i]}`;
}

function podCell(c: ContainerInfo): string {
  if (c.network.pod && c.network.oci_pod && c.network.pod !== c.network.oci_pod) {
    return `${c.network.pod},oci:${c.network.oci_pod}`;
  }
  if (c.network.pod) return c.network.pod;
  if (c.network.oci_pod) return `oci:${c.network.oci_pod}`;
  return '-';
}

/** The ps table; DISK only when a container has a disk cap, POD only when one is in a pod. */
export function formatPsTable(rows: readonly ContainerInfo[]): string {
  if (rows.length === 0) return 'no containers found\n';
  const withDisk = rows.some((c) => c.limits.disk !== null);
  const withPod = rows.some((c) => c.network.pod !== null || c.network.oci_pod !== null);
  const header = ['NAME', 'STATUS', 'HEALTH', 'USERNS', 'ENABLED', 'MOUNTS'];
  if (withDisk) header.push('DISK');
  if (withPod) header.push('POD');
  header.push('ADDRESSES', 'OS');
  const body = rows.map((c) => {
    const r = [c.name, c.status, c.health, yesNo(c.userns), yesNo(c.enabled), yesNo(hasMounts(c))];
    if (withDisk) {
      const used = c.disk_used === null ? '-' : formatBytes(c.disk_used);
      r.push(c.limits.disk === null ? used : `${used}/${c.limits.disk}`);
    }
    if (withPod) r.push(podCell(c));
    r.push(c.addresses.length > 0 ? c.addresses.join(',') : '-', c.os);
    return r;
  });
  return formatTable(header, body);
}

export type OutputFormat = 'table' | 'json' | 'json-pretty';

/** Flags win over the config default (`default_output_format`: "", json, json-pretty); both flags is an error. */
export function pickFormat(flags: { json?: boolean; jsonPretty?: boolean }, configDefault: string | undefined): OutputFormat {
  if (flags.json && flags.jsonPretty) throw new SdmeError('--json and --json-pretty are exclusive');
  if (flags.jsonPretty) return 'json-pretty';
  if (flags.json) return 'json';
  if (configDefault === 'json' || configDefault === 'json-pretty') return configDefault;
  return 'table';
}

export function formatJson(value: unknown, pretty: boolean): string {
  return (pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value)) + '\n';
}
