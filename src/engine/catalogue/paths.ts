/**
 * Every on-disk path sdme uses (layout-and-state.md §1-2). Nothing else in
 * the engine should join datadir paths by hand.
 */
import { join } from 'node:path';

export const DEFAULT_DATADIR = '/var/lib/sdme';
export const DEFAULT_CONFIG_PATH = '/etc/sdme.conf';

export const SYSTEMD_SYSTEM_DIR = '/etc/systemd/system';
export const TEMPLATE_UNIT_NAME = 'sdme@.service';
export const TEMPLATE_UNIT_PATH = `${SYSTEMD_SYSTEM_DIR}/${TEMPLATE_UNIT_NAME}`;
export const POD_NET_TEMPLATE_NAME = 'sdme-pod-net@.service';
export const POD_NET_TEMPLATE_PATH = `/run/systemd/system/${POD_NET_TEMPLATE_NAME}`;
export const RUN_PODS_DIR = '/run/sdme/pods';
export const MACHINES_DIR = '/var/lib/machines';

export type LockKind = 'fs' | 'containers' | 'pods' | 'secrets' | 'configmaps' | 'userns' | 'storage';

export interface Layout {
  datadir: string;
  stateDir: string;
  stateFile(name: string): string;
  containersDir: string;
  containerDir(name: string): string;
  upper(name: string): string;
  work(name: string): string;
  merged(name: string): string;
  /** containers/NAME/submounts/REL */
  submountDir(name: string, rel: string): string;
  fsDir: string;
  fsPath(name: string): string;
  fsMeta(name: string): string;
  fsEnv(name: string): string;
  /** fs/.NAME.KIND-txn-PID */
  fsTxn(name: string, kind: string, pid?: number): string;
  podsDir: string;
  podDir(pod: string): string;
  podState(pod: string): string;
  locksDir: string;
  lockFile(kind: LockKind | string, name: string): string;
  volumesDir: string;
  /** volumes/CONTAINER, or volumes/CONTAINER/VOLNAME when volumePath is given */
  volumeDir(container: string, volumePath?: string): string;
  cacheDir: string;
  defaultOciCacheDir: string;
  secretsDir: string;
  configmapsDir: string;
  btrfsDir: string;
  btrfsPoolImage: string;
  btrfsPoolDir: string;
  updateCheckFile: string;
}

export function layout(datadir: string = DEFAULT_DATADIR): Layout {
  const stateDir = join(datadir, 'state');
  const containersDir = join(datadir, 'containers');
  const fsDir = join(datadir, 'fs');
  const podsDir = join(datadir, 'pods');
  const locksDir = join(datadir, 'locks');
  const volumesDir = join(datadir, 'volumes');
  const cacheDir = join(datadir, 'cache');
  const containerDir = (n: string) => join(containersDir, n);
  return {
    datadir,
    stateDir,
    stateFile: (n) => join(stateDir, n),
    containersDir,
    containerDir,
    upper: (n) => join(containerDir(n), 'upper'),
    work: (n) => join(containerDir(n), 'work'),
    merged: (n) => join(containerDir(n), 'merged'),
    submountDir: (n, rel) => join(containerDir(n), 'submounts', rel),
    fsDir,
    fsPath: (n) => join(fsDir, n),
    fsMeta: (n) => join(fsDir, `.${n}.meta`),
    fsEnv: (n) => join(fsDir, `.${n}.env`),
    fsTxn: (n, kind, pid = process.pid) => join(fsDir, `.${n}.${kind}-txn-${pid}`),
    podsDir,
    podDir: (p) => join(podsDir, p),
    podState: (p) => join(podsDir, p, 'state'),
    locksDir,
    lockFile: (kind, n) => join(locksDir, kind, `${n}.lock`),
    volumesDir,
    volumeDir: (c, vp) => (vp === undefined ? join(volumesDir, c) : join(volumesDir, c, volumeName(vp))),
    cacheDir,
    defaultOciCacheDir: join(cacheDir, 'oci'),
    secretsDir: join(datadir, 'secrets'),
    configmapsDir: join(datadir, 'configmaps'),
    btrfsDir: join(datadir, 'btrfs'),
    btrfsPoolImage: join(datadir, 'btrfs-pool.img'),
    btrfsPoolDir: join(datadir, 'pool'),
    updateCheckFile: join(datadir, 'update-check.json'),
  };
}

/** OCI volume dir name: leading `/` dropped, other `/` become `-` (`/var/lib/mysql` -> `var-lib-mysql`). */
export function volumeName(volumePath: string): string {
  return volumePath.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\//g, '-');
}

/** `sdme@NAME.service` (instance is the literal container name). */
export function unitName(name: string): string {
  return `sdme@${name}.service`;
}

export function dropinDir(name: string): string {
  return `${SYSTEMD_SYSTEM_DIR}/${unitName(name)}.d`;
}

export function nspawnDropin(name: string): string {
  return `${dropinDir(name)}/nspawn.conf`;
}

export function limitsDropin(name: string): string {
  return `${dropinDir(name)}/limits.conf`;
}

export function podNetnsPath(pod: string): string {
  return `${RUN_PODS_DIR}/${pod}/netns`;
}

export function machinePath(name: string): string {
  return `${MACHINES_DIR}/${name}`;
}
