/** `fs ls`: rows, table and JSON renderers (cli-surface.md, fs). */
import { readdir, readFile } from 'node:fs/promises';
import type { Ctx } from '../context.js';
import { compareBytes, parseKV } from '../catalogue/kv.js';
import { isValidName } from '../catalogue/names.js';
import { detectOs } from './detect.js';
import { rootfsUsage } from './usage.js';

export interface RootfsInfo {
  name: string;
  os: string;
  containers: string[];
  path: string;
}

/** OS label: `.N.meta` DISTRO, else os-release inside the rootfs, else `unknown`. */
async function osOf(ctx: Ctx, name: string): Promise<string> {
  try {
    const d = parseKV(await readFile(ctx.layout.fsMeta(name), 'utf8'))['DISTRO'];
    if (d) return d;
  } catch {
    /* no or bad meta: look inside */
  }
  return detectOs(ctx.layout.fsPath(name)).prettyName || 'unknown';
}

export async function listRootfs(ctx: Ctx): Promise<RootfsInfo[]> {
  let entries;
  try {
    entries = await readdir(ctx.layout.fsDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const names = entries
    .filter((d) => d.isDirectory() && isValidName(d.name))
    .map((d) => d.name)
    .sort(compareBytes);
  const usage = await rootfsUsage(ctx.layout);
  const out: RootfsInfo[] = [];
  for (const name of names) {
    out.push({ name, os: await osOf(ctx, name), containers: usage.get(name) ?? [], path: ctx.layout.fsPath(name) });
  }
  return out;
}

/** Left-aligned columns, two-space gaps, widths = max(content, header). */
export function formatRootfsTable(rows: RootfsInfo[]): string {
  if (rows.length === 0) return 'no root filesystems found\n';
  const table = [
    ['NAME', 'OS', 'CONTAINERS', 'PATH'],
    ...rows.map((r) => [r.name, r.os, r.containers.length > 0 ? r.containers.join(',') : '-', r.path]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')).join('\n') + '\n';
}

export function rootfsJson(rows: RootfsInfo[], pretty = false): string {
  const data = rows.map((r) => ({ name: r.name, os: r.os, containers: r.containers }));
  return `${pretty ? JSON.stringify(data, null, 2) : JSON.stringify(data)}\n`;
}
