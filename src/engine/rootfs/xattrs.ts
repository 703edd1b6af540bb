/**
 * Extended attribute copy rules shared by tree copy and tar extraction
 * (import-and-oci.md §2): everything except `security.selinux*`; ENOTSUP on
 * read means "none", ENOTSUP on write silently stops further writes.
 */
import { LibcError, lgetxattr, llistxattr, lsetxattr } from '../../native/libc.js';

export function keepXattr(name: string): boolean {
  return !name.startsWith('security.selinux');
}

/** Reads all kept xattrs of path (no symlink following). */
export function readXattrs(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let names: string[];
  try {
    names = llistxattr(path);
  } catch (e) {
    if (e instanceof LibcError && (e.code === 'ENOTSUP' || e.code === 'ENODATA')) return out;
    throw e;
  }
  for (const n of names) {
    if (!keepXattr(n)) continue;
    try {
      const v = lgetxattr(path, n);
      if (v !== null) out.set(n, v);
    } catch (e) {
      if (e instanceof LibcError && (e.code === 'ENOTSUP' || e.code === 'ENODATA')) continue;
      throw e;
    }
  }
  return out;
}

/** Writes xattrs; remembers ENOTSUP in `state` and stops trying after it. */
export class XattrWriter {
  unsupported = false;

  apply(path: string, attrs: Map<string, Buffer>, isSymlink: boolean): void {
    if (this.unsupported) return;
    for (const [name, value] of attrs) {
      if (!keepXattr(name)) continue;
      try {
        lsetxattr(path, name, value);
      } catch (e) {
        if (e instanceof LibcError && (e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP')) {
          this.unsupported = true;
          return;
        }
        // user.* is not allowed on symlinks (EPERM): nothing to keep there
        if (e instanceof LibcError && isSymlink && e.code === 'EPERM') continue;
        throw e;
      }
    }
  }
}
