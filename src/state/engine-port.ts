/**
 * EnginePort: everything the TUI may ask of the engine. Components and screens
 * only see this interface (the real wiring is engine-adapter.ts, the demo and
 * test fakes implement it too). Nothing here shells out or renders.
 */
import type { ContainerInfo, ProgressEvent } from '../engine/types.js';

export type { ContainerInfo, ProgressEvent };

export type StopMode = 'graceful' | 'term' | 'kill';

export interface HostInfo {
  hostname: string;
  systemdVersion: number | null;
  datadir: string;
  /** true when running inside the sdme sandbox host */
  sandbox: boolean;
  /** the sandbox's name (SDME_SANDBOX inside it) */
  sandboxName?: string;
}

export interface PodInfo {
  name: string;
  active: boolean;
  netMode: string | null;
  netZone: string | null;
  addresses: string[];
  members: { name: string; podMode: 'pod' | 'oci-pod' }[];
  /** unix seconds */
  created: number;
}

export interface RootfsInfo {
  name: string;
  os: string;
  containers: string[];
}

/** One journal entry, message already decoded to a string (may hold control bytes). */
export interface JournalEntry {
  /** wall clock, milliseconds since the epoch */
  ts: number;
  message: string;
  /** systemd unit, e.g. sdme@web.service */
  unit: string;
  /** short tag shown before the line: the container name for pods */
  tag: string;
}

export interface JournalOptions {
  follow: boolean;
  /** history lines per source before following */
  lines: number;
  signal?: AbortSignal;
}

/** Raw cgroup counters; the store derives CPU % from deltas. */
export interface CgroupStats {
  /** cpu.stat usage_usec; null when this host's cgroups do not expose it */
  cpuUsageUsec: number | null;
  /** memory.current, bytes */
  memoryCurrent: number | null;
  /** memory.max in bytes, null = unlimited */
  memoryMax: number | null;
  /** when the container started (ms since epoch), if known */
  startedAt?: number | null;
}

/** Change notifications (from machined / systemd D-Bus signals). */
export type WatchEvent =
  | { kind: 'container'; name: string }
  | { kind: 'pods' }
  | { kind: 'rootfs' }
  /** something unknown changed: re-list everything */
  | { kind: 'resync' };

export type NetworkMode = 'host' | 'private' | 'veth' | 'bridge' | 'zone' | 'pod';
export type SecurityPreset = 'none' | 'hardened' | 'strict';

/** The quick-create wizard's view of `sdme create` flags. */
export interface CreateFlags {
  name: string;
  /** '' = clone the host rootfs */
  rootfs: string;
  network: NetworkMode;
  zone?: string;
  /** host bridge for network 'bridge' (--network-bridge) */
  bridge?: string;
  pod?: string;
  preset: SecurityPreset;
  /** overrides on top of the preset */
  userns?: boolean;
  noNewPrivileges?: boolean;
  readOnly?: boolean;
  dropCaps: string[];
  addCaps: string[];
  memory?: string;
  cpus?: string;
  cpuWeight?: string;
  /** HOST:CONTAINER[:ro] */
  binds: string[];
  /** KEY=VALUE */
  envs: string[];
  enable?: boolean;
}

export type CreateField = keyof CreateFlags | 'general';

export interface FieldError {
  field: CreateField;
  message: string;
}

/** What the security settings amount to, for display beside Docker's defaults. */
export interface IsolationItem {
  label: string;
  ours: string;
  docker: string;
  /** 'stronger' | 'weaker' | 'same' than Docker's default */
  verdict: 'stronger' | 'weaker' | 'same';
}

export interface IsolationSummary {
  items: IsolationItem[];
  notes: string[];
}

export interface ValidationResult {
  errors: FieldError[];
  /** isolation the flags would give (present even with errors when computable) */
  isolation: IsolationSummary | null;
}

export interface CommandArgv {
  cmd: string;
  args: string[];
}

export interface Subscription {
  close(): void;
}

export interface EnginePort {
  host(): Promise<HostInfo>;
  listContainers(): Promise<ContainerInfo[]>;
  /** one row, null when the container no longer exists */
  getContainer(name: string): Promise<ContainerInfo | null>;
  listPods(): Promise<PodInfo[]>;
  listRootfs(): Promise<RootfsInfo[]>;

  start(name: string, opts?: { onProgress?: (ev: ProgressEvent) => void; signal?: AbortSignal }): Promise<void>;
  stop(name: string, mode: StopMode): Promise<void>;
  restart(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  enable(name: string): Promise<void>;
  disable(name: string): Promise<void>;

  validateCreateFlags(flags: CreateFlags): Promise<ValidationResult>;
  /** `sdme create ...` as the user would type it */
  createCommandLine(flags: CreateFlags): string;
  createContainer(
    flags: CreateFlags,
    opts: { start: boolean; onProgress?: (ev: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<string>;
  /** a name nobody uses yet */
  suggestName(): Promise<string>;

  /** isolation actually in force for a running container (read live) */
  inspect(name: string): Promise<IsolationSummary>;

  journal(names: string | string[], opts: JournalOptions): AsyncIterable<JournalEntry>;
  /** null when the container is not running */
  readCgroupStats(name: string): Promise<CgroupStats | null>;
  watch(onChange: (ev: WatchEvent) => void): Subscription;

  /** argv for the interactive hand-off (machinectl shell NAME) */
  shellCommand(name: string): CommandArgv;
  /** run argv with inherited stdio; resolves with the exit code */
  runInteractive(argv: CommandArgv): Promise<number>;
}
