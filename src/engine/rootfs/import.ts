/**
 * `fs import SOURCE` for directories and tarballs (import-and-oci.md §1).
 *
 * Differences from upstream, on purpose: `-f` never deletes the old rootfs
 * before the new one is complete (stage, then swap), and refuses to replace
 * a rootfs that a container uses. URL, registry, OCI layout, qcow2 and raw
 * sources are refused as "not supported yet".
 */
import { rename, rm } from 'node:fs/promises';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../context.js';
import type { ProgressFn } from '../types.js';
import { SdmeError, checkInterrupt } from '../errors.js';
import { parseSize } from '../catalogue/config.js';
import { serializeKV, writeFileAtomic } from '../catalogue/kv.js';
import { lock } from '../catalogue/locks.js';
import { showName, validateName } from '../catalogue/names.js';
import { ensureDataDirSync } from '../catalogue/datadir.js';
import { safeRemoveDir } from '../catalogue/safe-remove.js';
import { Txn } from '../catalogue/txn.js';
import { decompressFile, detectCompression, readHead } from './compression.js';
import { copyTree } from './copy.js';
import { detectOs, type OsInfo } from './detect.js';
import { checkDirSource, classifySource, inferRootfsName, type DirSource, type SourceKind } from './source.js';
import { extractTarStream } from './tar.js';
import { containersUsing } from './usage.js';
import { pathExists } from '../../native/fsutil.js';

export interface ImportOptions {
  /** empty/undefined = infer from SOURCE */
  name?: string;
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

const UNSUPPORTED: Partial<Record<SourceKind, string>> = {
  url: 'importing from a URL is not supported yet',
  registry: 'importing from an OCI registry is not supported yet (to import a local path, prefix it with ./)',
  qcow2: 'importing QCOW2 disk images is not supported yet',
  raw: 'importing raw disk images is not supported yet',
};


/** Imports SOURCE as rootfs; returns the rootfs name. */
export async function importRootfs(ctx: Ctx, source: string, opts: ImportOptions = {}): Promise<string> {
  const signal = opts.signal ?? ctx.signal;
  const progress = opts.onProgress ?? (() => {});
  const force = opts.force ?? false;
  // validate everything before writing anything
  let name: string;
  if (opts.name) {
    validateName(opts.name, 'rootfs');
    name = opts.name;
  } else {
    name = inferRootfsName(source);
  }
  const kind = classifySource(source);
  const refusal = UNSUPPORTED[kind];
  if (refusal) throw new SdmeError(refusal);
  const maxBytes = parseSize(ctx.config.max_download_size);
  const { layout } = ctx;
  const dirSource = kind === 'dir' ? checkDirSource(source, layout) : undefined;

  ensureDataDirSync(layout, ['fs']);
  const finalPath = layout.fsPath(name);
  const l = lock(layout, 'fs', name, 'exclusive');
  try {
    return await importLocked(ctx, source, name, kind, dirSource, { signal, progress, force, maxBytes });
  } catch (e) {
    throw wrapFsError(e, source);
  } finally {
    // a failed import of a new name leaves no lock file behind
    l.release({ unlinkIfOwner: !(await pathExists(finalPath)) });
  }
}

/** Unexpected errno errors become one-line SdmeErrors (path and errno, no stack); bugs keep theirs. */
function wrapFsError(e: unknown, source: string): unknown {
  if (e instanceof SdmeError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return e;
  return new SdmeError(`cannot import ${showName(source)}: ${(e as Error).message}`, { cause: e });
}

async function importLocked(
  ctx: Ctx,
  source: string,
  name: string,
  kind: SourceKind,
  dirSource: DirSource | undefined,
  o: { signal?: AbortSignal; progress: ProgressFn; force: boolean; maxBytes: number },
): Promise<string> {
  const { signal, progress, force, maxBytes } = o;
  const { layout } = ctx;
  const finalPath = layout.fsPath(name);
  const replacing = await pathExists(finalPath);
  if (replacing) {
    if (!force) {
      throw new SdmeError(`root filesystem '${name}' already exists; use --force to replace it or --name to pick another name`);
    }
    const users = await containersUsing(layout, name);
    if (users.length > 0) {
      throw new SdmeError(`cannot replace root filesystem '${name}': in use by container '${users.join("', '")}'`);
    }
  }

  const txn = new Txn(layout.fsDir, name, 'import', { autoGc: ctx.config.auto_fs_gc, note: (m) => ctx.note(m) });
  const staging = await txn.prepare();
  let info: OsInfo;
  try {
    if (dirSource) {
      progress({ kind: 'phase', message: `copying ${source}...` });
      copyTree(dirSource.root, staging, {
        skipContents: dirSource.skipContents,
        signal,
        onWarn: (m) => ctx.note(`warning: ${m}`),
        onEntries: (n) => progress({ kind: 'progress', done: n, message: 'entries' }),
      });
    } else {
      const comp = detectCompression(readHead(source, 8));
      const total = fs.statSync(source).size;
      progress({ kind: 'phase', message: `extracting ${comp === 'none' ? 'tar' : `${comp}-compressed tar`} archive...` });
      let last = 0;
      await extractTarStream(decompressFile(source, comp, signal), staging, {
        maxBytes,
        signal,
        onWarn: (m) => ctx.note(`warning: ${m}`),
        onBytes: (n) => {
          if (n - last >= 8 << 20) {
            last = n;
            progress({ kind: 'progress', done: n, total: comp === 'none' ? total : undefined, message: 'bytes' });
          }
        },
      });
      if (await pathExists(join(staging, 'oci-layout'))) {
        throw new SdmeError('importing OCI image layout archives is not supported yet');
      }
    }
    checkInterrupt(signal);

    progress({ kind: 'phase', message: 'configuring rootfs...' });
    info = detectOs(staging);
    const missing = [!info.hasSystemd && 'systemd', !info.hasDbus && 'dbus'].filter(Boolean).join(' and ');
    if (missing) {
      const what = `rootfs has no ${missing}${info.prettyName ? ` (${info.prettyName})` : ''}`;
      if (!force) {
        throw new SdmeError(
          `${what}: it cannot boot as a container and installing packages is not supported yet; use -f to import anyway`,
        );
      }
      ctx.note(`warning: ${what}; importing anyway (--force)`);
    }
    if (info.hasSystemd && info.family !== 'nixos') patchServices(staging, (m) => ctx.note(m));

    // swap: old rootfs out of the way only now that the new one is complete
    checkInterrupt(signal);
    let old: string | undefined;
    if (replacing) {
      old = layout.fsTxn(name, 'remove');
      await safeRemoveDir(old);
      await rename(finalPath, old);
    }
    try {
      await txn.commit(finalPath);
    } catch (e) {
      if (old) await rename(old, finalPath);
      throw e;
    }
    if (old) {
      try {
        await safeRemoveDir(old, { note: (m) => ctx.note(m) });
      } catch (e) {
        ctx.note(`warning: could not remove the replaced rootfs at ${old}: ${(e as Error).message} (run 'sdme fs gc')`);
      }
    }
  } catch (e) {
    try {
      await txn.abort();
    } catch (e2) {
      ctx.note(`warning: could not remove staging ${txn.staging}: ${(e2 as Error).message}`);
    }
    throw e;
  }
  await rm(layout.fsEnv(name), { force: true });
  await writeFileAtomic(layout.fsMeta(name), serializeKV({ DISTRO: info.prettyName }), 0o600);
  return name;
}

/** Unmask resolved/logind when the image masked them with /dev/null symlinks (failures only warn). */
function patchServices(root: string, note: (m: string) => void): void {
  for (const unit of ['systemd-resolved.service', 'systemd-logind.service']) {
    const p = join(root, 'etc/systemd/system', unit);
    try {
      const st = fs.lstatSync(p);
      if (st.isSymbolicLink() && fs.readlinkSync(p) === '/dev/null') fs.unlinkSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') note(`warning: could not unmask ${unit}: ${(e as Error).message}`);
    }
  }
}
