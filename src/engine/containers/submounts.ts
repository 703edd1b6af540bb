/**
 * Host-rootfs clones: which real host filesystems below `/` get their own
 * overlay (lifecycle.md §10). Pure over parsed mountinfo.
 */
import type { MountEntry } from '../../native/mountinfo.js';

export const SUBMOUNT_FSTYPES = new Set([
  'ext2', 'ext3', 'ext4', 'btrfs', 'xfs', 'zfs', 'f2fs', 'bcachefs', 'reiserfs', 'jfs', 'ntfs', 'ntfs3', 'vfat', 'exfat',
]);
const EXCLUDED = ['/proc', '/sys', '/dev', '/run', '/tmp', '/var/log', '/var/tmp'];

/** Relative paths (no leading `/`) of host submounts, sorted by depth then name, deduplicated. */
export function hostSubmounts(entries: readonly MountEntry[], extraExcluded: readonly string[] = []): string[] {
  const excluded = [...EXCLUDED, ...extraExcluded];
  const rels = new Set<string>();
  for (const e of entries) {
    const p = e.mountPoint;
    if (!SUBMOUNT_FSTYPES.has(e.fsType)) continue;
    if (p === '/' || !p.startsWith('/')) continue;
    if (p.split('/').includes('..') || p.includes(',')) continue;
    if (excluded.some((x) => p === x || p.startsWith(`${x}/`))) continue;
    rels.add(p.replace(/^\/+/, '').replace(/\/+$/, ''));
  }
  const depth = (s: string) => s.split('/').length;
  return [...rels].filter(Boolean).sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
}
