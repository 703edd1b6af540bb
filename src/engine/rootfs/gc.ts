/** `fs gc` (import-and-oci.md §4): remove staging of dead processes in fs/. */
import type { Ctx } from '../context.js';
import { gcStale } from '../catalogue/txn.js';

export async function gcRootfs(ctx: Ctx): Promise<number> {
  return gcStale(ctx.layout.fsDir, undefined, { note: (m) => ctx.note(m) });
}

export function gcMessage(count: number): string {
  return count === 0 ? 'no stale transactions found' : `cleaned ${count} stale transaction(s)`;
}
