/**
 * Builds tar archives for tests with Python's tarfile (PAX format), then
 * compresses them with the stock CLI tools. Output names deliberately do not
 * reveal the compression.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface TarSpecEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';
  data?: string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  major?: number;
  minor?: number;
  /** PAX SCHILY.xattr.NAME = hex bytes */
  xattrsHex?: Record<string, string>;
}

export type TestCompression = 'plain' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const PY = String.raw`
import json, sys, tarfile, io
spec = json.load(open(sys.argv[1]))
T = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE, 'hardlink': tarfile.LNKTYPE,
     'chardev': tarfile.CHRTYPE, 'blockdev': tarfile.BLKTYPE, 'fifo': tarfile.FIFOTYPE}
with tarfile.open(sys.argv[2], 'w', format=tarfile.PAX_FORMAT) as tf:
    for e in spec:
        ti = tarfile.TarInfo(e['name'])
        ti.type = T[e['type']]
        ti.mode = e.get('mode', 0o755 if e['type'] == 'dir' else 0o644)
        ti.uid = e.get('uid', 0); ti.gid = e.get('gid', 0)
        ti.mtime = e.get('mtime', 1700000000)
        ti.uname = ''; ti.gname = ''
        if 'linkname' in e: ti.linkname = e['linkname']
        if 'major' in e: ti.devmajor = e['major']; ti.devminor = e.get('minor', 0)
        if 'xattrsHex' in e:
            ti.pax_headers = {('SCHILY.xattr.' + k): bytes.fromhex(v).decode('utf-8', 'surrogateescape') for k, v in e['xattrsHex'].items()}
        data = e.get('data')
        if data is not None and e['type'] == 'file':
            b = data.encode()
            ti.size = len(b)
            tf.addfile(ti, io.BytesIO(b))
        else:
            tf.addfile(ti)
`;

export function makeTar(out: string, entries: TarSpecEntry[], compression: TestCompression = 'plain'): string {
  const specPath = `${out}.spec.json`;
  const pyPath = `${out}.mk.py`;
  writeFileSync(specPath, JSON.stringify(entries));
  writeFileSync(pyPath, PY);
  const plain = `${out}.plain`;
  execFileSync('python3', [pyPath, specPath, plain]);
  if (compression === 'plain') {
    writeFileSync(out, readFileSync(plain));
  } else {
    const tool = { gzip: 'gzip', bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' }[compression];
    writeFileSync(out, execFileSync(tool, ['-c', plain], { maxBuffer: 1 << 30 }));
  }
  return out;
}
