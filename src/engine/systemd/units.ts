/**
 * Unit text renderers (lifecycle.md §1): the shared template, the
 * per-instance nspawn drop-in and the limits drop-in. Pure; the callers write
 * the files only when the text changed.
 *
 * Escaping: systemd expands `%` specifiers in unit values and `$` variables in
 * Exec lines, so both are doubled wherever a path or user value is written.
 */
import { validateName } from '../catalogue/names.js';
import type { NspawnPlan, ExecLine } from '../nspawn/argv.js';
import { cpuQuotaPercent, validateCpuWeight, validateCpus, validateMemory } from '../security/validate.js';
import type { ContainerState } from '../types.js';

/** First systemd with `DelegateSubgroup=`. */
export const DELEGATE_SUBGROUP_MIN_SYSTEMD = 256;

/** `%` -> `%%`, `$` -> `$$` (for Exec lines, where both are expanded). */
export function escapeUnitValue(s: string): string {
  return s.replace(/[%$]/g, (c) => c + c);
}

/** `%` -> `%%` only (for non-Exec directives: there `$$` would stay literal). */
export function escapeSpecifiers(s: string): string {
  return s.replace(/%/g, '%%');
}

/**
 * One Exec argument as systemd will split it back. Quoted (`"..."`, with `\`
 * and `"` backslash-escaped) when it contains space, tab, `"`, `\`, `'`
 * (systemd also unquotes single quotes), a control character, is empty, or
 * starts with `#`/`;` (comment / command separator); then `%`/`$` doubled.
 */
export function quoteExecArg(s: string): string {
  // eslint-disable-next-line no-control-regex
  const needs = s === '' || /[ \t"\\'\x00-\x1f\x7f]/.test(s) || /^[#;]/.test(s);
  if (!needs) return escapeUnitValue(s);
  const inner = s.replace(/[\\"\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
  return `"${escapeUnitValue(inner)}"`;
}

/** `sdme@NAME.service`: names are `[a-z0-9-]`, used literally (no systemd-escape, no `\x2d`). */
export function unitInstanceName(name: string): string {
  validateName(name, 'container');
  return `sdme@${name}.service`;
}

export interface TemplateParams {
  tasksMax: number;
  /** seconds; TimeoutStartSec = bootTimeout + 30 */
  bootTimeout: number;
  systemdVersion: number;
}

/** `/etc/systemd/system/sdme@.service` (lifecycle.md §1.1). */
export function renderTemplate(p: TemplateParams): string {
  const ints: [string, number][] = [['tasksMax', p.tasksMax], ['bootTimeout', p.bootTimeout]];
  for (const [k, v] of ints) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`renderTemplate: ${k} must be a positive integer (got ${v})`);
  }
  return [
    '[Unit]',
    'Description=sdme container %i',
    'After=network.target local-fs.target systemd-machined.service dbus.service',
    'Wants=systemd-machined.service',
    '',
    '[Service]',
    'Type=notify',
    'RestartForceExitStatus=133',
    'SuccessExitStatus=133',
    'ExecStart=/bin/false',
    'KillMode=mixed',
    'Slice=machine.slice',
    'Delegate=yes',
    ...(p.systemdVersion >= DELEGATE_SUBGROUP_MIN_SYSTEMD ? ['DelegateSubgroup=supervisor'] : []),
    `TasksMax=${p.tasksMax}`,
    'DevicePolicy=closed',
    'DeviceAllow=/dev/net/tun rwm',
    'DeviceAllow=char-pts rw',
    `TimeoutStartSec=${p.bootTimeout + 30}s`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

const INDENT = '    ';

function execLine(key: string, line: ExecLine): string {
  return `${key}=${line.ignoreFailure ? '-' : ''}${line.argv.map(quoteExecArg).join(' ')}`;
}

/** `sdme@NAME.service.d/nspawn.conf` from a plan (lifecycle.md §1.2). ExecStart: one argument per continued line. */
export function renderNspawnDropin(plan: NspawnPlan): string {
  const lines = ['[Service]'];
  for (const d of plan.serviceDirectives) lines.push(`${d.key}=${escapeSpecifiers(d.value)}`);
  lines.push('ExecStart=');
  for (const l of plan.execStartPre) lines.push(execLine('ExecStartPre', l));
  const [first, ...rest] = plan.execStart.map(quoteExecArg);
  lines.push(`ExecStart=${first}${rest.length ? ' \\' : ''}`);
  rest.forEach((a, i) => lines.push(`${INDENT}${a}${i < rest.length - 1 ? ' \\' : ''}`));
  for (const l of plan.execStopPost) lines.push(execLine('ExecStopPost', l));
  lines.push('');
  return lines.join('\n');
}

/** `limits.conf` (lifecycle.md §1.3), or undefined when no limit is set (caller removes the file). */
export function renderLimitsDropin(s: Pick<ContainerState, 'memory' | 'cpus' | 'cpuWeight'>): string | undefined {
  const lines: string[] = [];
  if (s.memory) {
    validateMemory(s.memory);
    lines.push(`MemoryMax=${s.memory}`, `MemorySwapMax=${s.memory}`);
  }
  // CPUQuota= does not expand specifiers: the `%` stays single
  if (s.cpus) lines.push(`CPUQuota=${cpuQuotaPercent(validateCpus(s.cpus))}%`);
  if (s.cpuWeight) lines.push(`CPUWeight=${validateCpuWeight(s.cpuWeight)}`);
  if (lines.length === 0) return undefined;
  return ['[Service]', ...lines, ''].join('\n');
}
