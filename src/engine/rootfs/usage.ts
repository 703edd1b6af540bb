/** Which containers use a rootfs (state files with ROOTFS=N). */
import { readFile } from 'node:fs/promises';
import type { Layout } from '../catalogue/paths.js';
import { listStateNames } from '../catalogue/container-state.js';
import { parseKV } from '../catalogue/kv.js';

/** Names of containers whose state says ROOTFS=name, sorted. Unreadable state files are skipped. */
export async function containersUsing(layout: Layout, name: string): Promise<string[]> {
  const all = await rootfsUsage(layout);
  return all.get(name) ?? [];
}

/** Map rootfs name -> container names, one pass over state/. */
export async function rootfsUsage(layout: Layout): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const c of await listStateNames(layout)) {
    let rootfs: string | undefined;
    try {
      const text = await readFile(layout.stateFile(c), 'utf8');
      try {
        rootfs = parseKV(text)['ROOTFS'];
      } catch {
        // a damaged state file still counts if its ROOTFS line is readable
        rootfs = /^\s*ROOTFS=(.*)$/m.exec(text)?.[1]?.trim();
      }
    } catch {
      continue;
    }
    if (!rootfs) continue;
    const list = out.get(rootfs) ?? [];
    list.push(c);
    out.set(rootfs, list);
  }
  return out;
}
