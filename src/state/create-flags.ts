/**
 * Wizard flags -> `sdme create` argv -> the CLI's own option parser ->
 * the engine's createFlagsToState. The preview the wizard shows IS the argv
 * that gets validated, so it is always a command the CLI accepts. Both the
 * real adapter and the demo port validate through validateWizardFlags.
 */
import { Command, CommanderError } from 'commander';
import { addCreateOptions, collectCreateFlags, type CliCreateFlags } from '../cli/create-flags.js';
import { SdmeError } from '../engine/errors.js';
import {
  CreateFlagError,
  createFlagsToState,
  type CreateConfig,
  type CreateHostFacts,
  type CreateResolution,
} from '../engine/security/create-flags.js';
import type { CreateField, CreateFlags, FieldError, ValidationResult } from './engine-port.js';
import { isolationFromState, isolationSummary } from './isolation.js';

export function defaultFlags(name = ''): CreateFlags {
  return { name, rootfs: '', network: 'host', preset: 'none', dropCaps: [], addCaps: [], binds: [], envs: [] };
}

/** argv after `sdme` */
export function createArgs(f: CreateFlags, started = false): string[] {
  const a = ['create'];
  if (f.name) a.push('--name', f.name);
  if (f.rootfs) a.push('-r', f.rootfs);
  if (f.network === 'private') a.push('--private-network');
  else if (f.network === 'veth') a.push('--network-veth');
  else if (f.network === 'bridge') a.push('--network-bridge', f.bridge ?? '');
  else if (f.network === 'zone') a.push('--network-zone', f.zone ?? '');
  else if (f.network === 'pod') a.push('--pod', f.pod ?? '');
  if (f.preset === 'hardened') a.push('--hardened');
  if (f.preset === 'strict') a.push('--strict');
  if (f.userns && f.preset === 'none') a.push('--userns');
  if (f.noNewPrivileges && f.preset === 'none') a.push('--no-new-privileges');
  if (f.readOnly) a.push('--read-only');
  for (const c of f.dropCaps) a.push('--drop-capability', c);
  for (const c of f.addCaps) a.push('--capability', c);
  if (f.memory) a.push('--memory', f.memory);
  if (f.cpus) a.push('--cpus', f.cpus);
  if (f.cpuWeight) a.push('--cpu-weight', f.cpuWeight);
  for (const b of f.binds) a.push('-b', b);
  for (const e of f.envs) a.push('-e', e);
  if (f.enable) a.push('--enable');
  if (started) a.push('--started');
  return a;
}

/** POSIX-shell quoting for display */
export function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function createCommandLine(f: CreateFlags, started = false): string {
  return ['sdme', ...createArgs(f, started)].map(shellQuote).join(' ');
}

/**
 * Parse `create ...` argv with the CLI's commander definitions (exactly what
 * `sdme create` does). Throws SdmeError on anything commander rejects.
 */
export function parseCreateArgv(argv: readonly string[]): CliCreateFlags {
  if (argv[0] !== 'create') throw new SdmeError(`not a create command line: ${argv.join(' ')}`);
  const cmd = addCreateOptions(new Command('create'), 'create');
  let msg = '';
  cmd.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (s) => void (msg += s) });
  try {
    cmd.parse(argv.slice(1) as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new SdmeError((msg || e.message).trim().replace(/^error: /, ''));
    throw e;
  }
  return collectCreateFlags(cmd.opts());
}

/** The wizard field a `createFlagsToState` error flag belongs to. */
export function fieldForFlag(flag: string): CreateField {
  const map: Record<string, CreateField> = {
    '--name': 'name',
    '--fs': 'rootfs',
    '--memory': 'memory',
    '--cpus': 'cpus',
    '--cpu-weight': 'cpuWeight',
    '--network-zone': 'zone',
    '--network-bridge': 'bridge',
    '--pod': 'pod',
    '--capability': 'addCaps',
    '--drop-capability': 'dropCaps',
    '--bind': 'binds',
    '--env': 'envs',
    '--hardened': 'preset',
    '--strict': 'preset',
    '--userns': 'userns',
  };
  return map[flag] ?? 'general';
}

export interface WizardResolution {
  /** the argv (after `sdme`) the preview shows */
  argv: string[];
  resolution: CreateResolution;
}

/** Wizard flags through the CLI parser and the engine validator. Throws SdmeError/CreateFlagError. */
export function resolveWizardFlags(f: CreateFlags, config: CreateConfig, facts: CreateHostFacts): WizardResolution {
  const argv = createArgs(f);
  const input = parseCreateArgv(argv);
  return { argv, resolution: createFlagsToState(input, config, facts) };
}

/**
 * ValidationResult for the wizard: engine errors mapped to fields (by the
 * error's flag), isolation computed from the state the engine returned.
 * `extra` are host-fact problems the caller checked itself (name taken, ...).
 */
export function validateWizardFlags(
  f: CreateFlags,
  config: CreateConfig,
  facts: CreateHostFacts,
  extra: FieldError[] = [],
): ValidationResult & { resolution: CreateResolution | null } {
  try {
    const { resolution } = resolveWizardFlags(f, config, facts);
    const isolation = isolationSummary(isolationFromState(resolution.state));
    isolation.notes = resolution.notes;
    return { errors: extra, isolation, resolution };
  } catch (e) {
    if (e instanceof CreateFlagError) return { errors: [{ field: fieldForFlag(e.flag), message: e.message }, ...extra], isolation: null, resolution: null };
    if (e instanceof SdmeError) return { errors: [{ field: 'general', message: e.message }, ...extra], isolation: null, resolution: null };
    throw e;
  }
}
