/**
 * Mount points under a directory, from /proc/self/mountinfo.
 * (Small local reader; native/mountinfo.ts is the shared one once it lands.)
 */
import { readFileSync, rmSync } from 'node:fs';
import { MNT_DETACH, umount2 } from '../../native/libc.js';
import { SdmeError } from '../errors.js';

/** Decodes mountinfo's octal escapes (\040 for space, \011, \012, \134). */
export function decodeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points (field 5) listed in mountinfo text. */
export function mountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length > 5 && f[4]) out.push(decodeMountPath(f[4]));
  }
  return out;
}

/** Mount points at or below dir, deepest first (the order to unmount them). */
export function mountsUnder(dir: string, mountinfo?: string): string[] {
  const text = mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8');
  const d = dir.replace(/\/+$/, '');
  const hits = mountPoints(text).filter((m) => m === d || m.startsWith(`${d}/`));
  return [...new Set(hits)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/**
 * Unmounts everything at or below dir (deepest first, lazily if busy), then
 * removes dir. Never deletes through a mount: refuses if one remains.
 */
export function unmountAndRemove(dir: string): void {
  for (const m of mountsUnder(dir)) {
    try {
      umount2(m, 0);
    } catch {
      try {
        umount2(m, MNT_DETACH);
      } catch {
        // reported below if it is still there
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new SdmeError(`refusing to remove ${dir}: still mounted: ${left.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}
