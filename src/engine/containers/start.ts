/**
 * start (lifecycle.md §4): template and drop-ins regenerated from state and
 * written only when changed (one Reload), StartUnit, then the boot wait.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { readMountinfo } from '../../native/mountinfo.js';
import { run, which } from '../../native/run.js';
import { readState } from '../catalogue/container-state.js';
import { lock } from '../catalogue/locks.js';
import {
  TEMPLATE_UNIT_PATH,
  dropinDir,
  limitsDropin,
  nspawnDropin,
  unitName,
} from '../catalogue/paths.js';
import type { Ctx } from '../context.js';
import { InterruptedError, SdmeError, checkInterrupt } from '../errors.js';
import { buildNspawnPlan } from '../nspawn/argv.js';
import { podHasDns, preparePodsForStart } from '../network/pods.js';
import { assertBridgeExists, assertNoIfnameClash } from '../network/ifnames.js';
import { ifaceOwners } from '../network/pod-net.js';
import { assertIdmappableBinds, inspectBindHosts } from '../security/bind-hosts.js';
import { waitForBoot } from '../systemd/bootwait.js';
import type { SystemdClient } from '../systemd/dbus.js';
import { renderLimitsDropin, renderNspawnDropin, renderTemplate } from '../systemd/units.js';
import type { ContainerState, ProgressFn } from '../types.js';
import { ensureExists, exists, removeIfExists, rmdirIfEmpty, withSystemd, writeIfChanged } from './common.js';
import { hostSubmounts } from './submounts.js';

export interface StartOptions {
  /** boot timeout in seconds (default config boot_timeout) */
  timeoutSec?: number;
  client?: SystemdClient;
  /** /sys/class/net to look bridges up in (tests) */
  sysClassNet?: string;
  /** phase events: unit files, StartUnit, registration, systemd inside (CLI -v, TUI) */
  onProgress?: ProgressFn;
}

/** The phase messages of a start, in order. */
export const startPhase = {
  units: 'writing unit files',
  startUnit: (name: string) => `starting ${unitName(name)}`,
  registered: (name: string) => `machine '${name}' registered`,
  systemdInside: (name: string) => `waiting for systemd inside '${name}'`,
};

/**
 * waitForBoot's progress seen from start: its first phase (waiting for
 * machined registration) passes through; its second one (the container's bus)
 * means the machine is registered, reported as two start phases.
 */
export function bootProgress(name: string, onProgress: ProgressFn): ProgressFn {
  let phases = 0;
  return (ev) => {
    if (ev.kind === 'phase' && ++phases === 2) {
      onProgress({ kind: 'phase', message: startPhase.registered(name) });
      onProgress({ kind: 'phase', message: startPhase.systemdInside(name) });
      return;
    }
    onProgress(ev);
  };
}

/** Write the shared template if its text changed. Returns true when written (caller reloads). */
export async function writeTemplate(ctx: Ctx, systemdVersion: number, bootTimeoutSec: number): Promise<boolean> {
  const text = renderTemplate({ tasksMax: ctx.config.tasks_max, bootTimeout: bootTimeoutSec, systemdVersion });
  return writeIfChanged(TEMPLATE_UNIT_PATH, text, 0o644);
}

/** Binaries baked into the drop-in (absolute paths resolved now). */
export function resolveBinaries(): { nspawn: string; mount: string; umount: string; nsenter: string } {
  const nspawn = which('systemd-nspawn');
  if (!nspawn) throw new SdmeError('systemd-nspawn not found: install systemd-container');
  const mount = which('mount');
  const umount = which('umount');
  const nsenter = which('nsenter');
  if (!mount || !umount) throw new SdmeError('mount/umount not found: install util-linux');
  return { nspawn, mount, umount, nsenter: nsenter ?? '/usr/bin/nsenter' };
}

/** Host submounts for a host clone (none for imported rootfs); their dirs are created. */
export async function prepareSubmounts(ctx: Ctx, s: ContainerState): Promise<string[]> {
  if (s.rootfs !== '') return [];
  const rels = hostSubmounts(readMountinfo(), [ctx.layout.datadir]);
  for (const rel of rels) {
    await mkdir(`${ctx.layout.submountDir(s.name, rel)}/upper`, { recursive: true, mode: 0o755 });
    await chmod(`${ctx.layout.submountDir(s.name, rel)}/upper`, 0o755);
    await mkdir(`${ctx.layout.submountDir(s.name, rel)}/work`, { recursive: true, mode: 0o700 });
  }
  return rels;
}

/**
 * Regenerate nspawn.conf and limits.conf from state; each written only if its
 * text changed. Returns true when anything on disk changed (caller reloads).
 */
export async function writeDropins(ctx: Ctx, s: ContainerState, systemdVersion: number): Promise<boolean> {
  // bind sources must still exist; devices are never idmapped, overlayfs sources cannot be
  const hostDevices = await inspectBindHosts(s.binds);
  if (s.userns) await assertIdmappableBinds(s.binds, hostDevices);
  const hostSubs = await prepareSubmounts(ctx, s);
  const plan = buildNspawnPlan(s, {
    datadir: ctx.layout.datadir,
    binaries: resolveBinaries(),
    hostSubmounts: hostSubs,
    systemdVersion,
    podDns: s.pod !== undefined && (await podHasDns(ctx, s.pod)),
    hostDevices,
  });
  for (const n of plan.notes) ctx.note(n);
  let changed = await writeIfChanged(nspawnDropin(s.name), renderNspawnDropin(plan), 0o644);
  const limits = renderLimitsDropin(s);
  if (limits) changed = (await writeIfChanged(limitsDropin(s.name), limits, 0o644)) || changed;
  else changed = (await removeIfExists(limitsDropin(s.name))) || changed;
  return changed;
}

/** Remove the whole drop-in dir; returns true if it existed (caller reloads). */
export async function removeDropins(name: string): Promise<boolean> {
  if (!(await exists(dropinDir(name)))) return false;
  await rm(dropinDir(name), { recursive: true, force: true });
  return true;
}

export const APPARMOR_PROFILES_FILE = '/sys/kernel/security/apparmor/profiles';

/**
 * AppArmor: the profile must be loaded (a line `PROFILE (mode)` in the
 * kernel's profiles file). Without AppArmor in the kernel systemd would
 * silently ignore AppArmorProfile=, so that is refused too (docs/isolation.md).
 */
export async function checkAppArmor(name: string, profile: string, profilesFile = APPARMOR_PROFILES_FILE): Promise<void> {
  let text: string;
  try {
    text = await readFile(profilesFile, 'utf8');
  } catch {
    throw new SdmeError(
      `container '${name}' needs AppArmor profile '${profile}' (--strict or --apparmor-profile), but AppArmor is not ` +
        `enabled on this host (no ${profilesFile}); boot with AppArmor enabled, or recreate the container without ` +
        `--strict/--apparmor-profile (--hardened, --drop-capability and --system-call-filter work without it)`,
    );
  }
  if (!text.split('\n').some((l) => l.startsWith(`${profile} (`))) {
    throw new SdmeError(
      `AppArmor profile '${profile}' is not loaded; write the profile to /etc/apparmor.d/${profile} ` +
        `(see docs/isolation.md) and load it with: apparmor_parser -r /etc/apparmor.d/${profile}`,
    );
  }
}

/** Last 50 journal lines of the unit (header lines dropped). */
export async function lastJournalLines(name: string, lines = 50): Promise<string[]> {
  const r = await run(
    'journalctl',
    ['-u', unitName(name), '-n', String(lines), '--no-pager', '-o', 'short-monotonic'],
    { timeoutMs: 15_000 },
  );
  return r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('-- '));
}

/** Start one container and wait for it to boot. The caller handles batch output. */
export async function startContainer(ctx: Ctx, name: string, opts: StartOptions = {}): Promise<void> {
  await ensureExists(ctx, name);
  const held = lock(ctx.layout, 'containers', name, 'shared');
  try {
    await withSystemd(opts.client, (client) => startLocked(ctx, name, client, opts));
  } finally {
    held.release();
  }
}

async function startLocked(ctx: Ctx, name: string, client: SystemdClient, opts: StartOptions): Promise<void> {
  const L = ctx.layout;
  const unit = unitName(name);
  const state = await readState(L, name);
  const bootTimeout = opts.timeoutSec ?? ctx.config.boot_timeout;
  const budgetMs = bootTimeout * 1000;
  const t0 = Date.now();

  // fast path: already running
  const active = (await client.unitActiveStates([unit])).get(unit);
  if (active === 'active' && (await client.machineState(name)) === 'running') return;

  // a bridge removed since create: nspawn would only fail at boot, after the unit started
  if (state.networkBridge !== undefined) assertBridgeExists(state.networkBridge, opts.sysClassNet);

  const phase = (message: string) => opts.onProgress?.({ kind: 'phase', message });
  phase(startPhase.units);
  const version = await client.version();
  let reload = await writeTemplate(ctx, version, bootTimeout);
  await chmod(L.upper(name), 0o755);
  await chmod(L.merged(name), 0o755);
  // pod netns recreated after a reboot, attached networking restored, pod resolv.conf written
  await preparePodsForStart(ctx, state);
  if (state.apparmorProfile) await checkAppArmor(name, state.apparmorProfile);
  // host interface names are cut to 15 bytes: a clash would fail at boot with "File exists"
  assertNoIfnameClash(state, await ifaceOwners(ctx));
  reload = (await writeDropins(ctx, state, version)) || reload;
  if (reload) await client.reload();
  checkInterrupt(ctx.signal);

  let job;
  phase(startPhase.startUnit(name));
  try {
    job = await client.startUnit(unit, { timeoutMs: budgetMs, signal: ctx.signal });
  } catch (e) {
    if (e instanceof InterruptedError) throw e;
    // StartUnit itself refused: leave no drop-in behind
    if (await removeDropins(name)) await client.reload().catch(() => undefined);
    throw e;
  }

  if (job.result === 'done' || job.result === 'timeout') {
    const left = Math.max(budgetMs - (Date.now() - t0), 1000);
    const onProgress = opts.onProgress && bootProgress(name, opts.onProgress);
    const outcome = await waitForBoot(client, name, { timeoutMs: left, signal: ctx.signal, onProgress });
    if (outcome === 'ready') return;
    if (outcome === 'timeout') {
      throw new SdmeError(
        `container '${name}' did not finish booting within ${bootTimeout}s; it is left running ` +
          `(see 'sdme logs ${name}', or 'sdme stop ${name}' then 'sdme start -t SECONDS ${name}')`,
      );
    }
  }
  // the unit failed or the machine went away during boot
  ctx.note(`boot failed, stopping '${name}'`);
  await stopAfterFailedBoot(ctx, client, name);
  const lines = await lastJournalLines(name);
  if (lines.length > 0) ctx.note(lines.join('\n'));
  throw new SdmeError(`container '${name}' failed to boot (job ${job.result}, unit ${job.activeState || 'not loaded'})`);
}

/** Terminate whatever is left of a failed boot; never throws. */
async function stopAfterFailedBoot(ctx: Ctx, client: SystemdClient, name: string): Promise<void> {
  const unit = unitName(name);
  try {
    const st = (await client.unitActiveStates([unit])).get(unit);
    if (st === 'active' || st === 'activating' || st === 'deactivating' || st === 'reloading') {
      // cleanup must run even after an interrupt
      await client.stopUnit(unit, { timeoutMs: ctx.config.stop_timeout_terminate * 1000 });
    }
  } catch (e) {
    ctx.note(`warning: could not stop ${unit}: ${(e as Error).message}`);
  }
}

/** Drop-in dir left empty? Remove it (used by set/enable paths). */
export async function tidyDropinDir(name: string): Promise<void> {
  await rmdirIfEmpty(dropinDir(name));
}
