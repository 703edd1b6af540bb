/** Quick-create wizard: field definitions and a pure key reducer. */
import type { CreateFlags, NetworkMode, SecurityPreset } from '../state/engine-port.js';
import type { WizardState } from '../state/ui-store.js';
import { defaultFlags } from '../state/create-flags.js';

export type FieldKind = 'text' | 'choice' | 'toggle' | 'list' | 'button';

export interface WizCtx {
  rootfs: string[];
  pods: string[];
}

export interface FieldDef {
  id: string;
  label: string;
  kind: FieldKind;
  visible?: (f: CreateFlags) => boolean;
  options?: (ctx: WizCtx) => { value: string; label: string }[];
}

const NETS: NetworkMode[] = ['host', 'private', 'veth', 'bridge', 'zone', 'pod'];
const PRESETS: SecurityPreset[] = ['none', 'hardened', 'strict'];

export const FIELDS: FieldDef[] = [
  { id: 'name', label: 'Name', kind: 'text' },
  { id: 'rootfs', label: 'Root fs', kind: 'choice', options: (c) => [{ value: '', label: 'host (clone /)' }, ...c.rootfs.map((r) => ({ value: r, label: r }))] },
  { id: 'network', label: 'Network', kind: 'choice', options: () => NETS.map((n) => ({ value: n, label: n })) },
  { id: 'bridge', label: 'Bridge', kind: 'text', visible: (f) => f.network === 'bridge' },
  { id: 'zone', label: 'Zone', kind: 'text', visible: (f) => f.network === 'zone' },
  { id: 'pod', label: 'Pod', kind: 'choice', visible: (f) => f.network === 'pod', options: (c) => c.pods.map((p) => ({ value: p, label: p })) },
  { id: 'preset', label: 'Security', kind: 'choice', options: () => PRESETS.map((p) => ({ value: p, label: p })) },
  { id: 'userns', label: 'User namespace', kind: 'toggle', visible: (f) => f.preset === 'none' },
  { id: 'noNewPrivileges', label: 'No new privileges', kind: 'toggle', visible: (f) => f.preset === 'none' },
  { id: 'readOnly', label: 'Read-only root', kind: 'toggle' },
  { id: 'dropCaps', label: 'Drop caps', kind: 'list' },
  { id: 'addCaps', label: 'Add caps', kind: 'list' },
  { id: 'memory', label: 'Memory', kind: 'text' },
  { id: 'cpus', label: 'CPUs', kind: 'text' },
  { id: 'cpuWeight', label: 'CPU weight', kind: 'text' },
  { id: 'binds', label: 'Binds (H:C[:ro],..)', kind: 'list' },
  { id: 'envs', label: 'Env (K=V,..)', kind: 'list' },
  { id: 'enable', label: 'Enable at boot', kind: 'toggle' },
  { id: 'create', label: 'Create', kind: 'button' },
  { id: 'createStart', label: 'Create and start', kind: 'button' },
];

export function visibleFields(f: CreateFlags): FieldDef[] {
  return FIELDS.filter((d) => !d.visible || d.visible(f));
}

export function newWizard(name: string): WizardState {
  return { flags: defaultFlags(name), field: 'name', validation: null, text: {} };
}

/** Current display value of a field. */
export function fieldValue(w: WizardState, d: FieldDef, ctx: WizCtx): string {
  const f = w.flags as unknown as Record<string, unknown>;
  switch (d.kind) {
    case 'toggle':
      return f[d.id] ? '[x]' : '[ ]';
    case 'list':
      return w.text[d.id] ?? ((f[d.id] as string[]) ?? []).join(',');
    case 'choice': {
      const opts = d.options!(ctx);
      const cur = (f[d.id] as string | undefined) ?? '';
      return `‹ ${opts.find((o) => o.value === cur)?.label ?? (cur || '-')} ›`;
    }
    case 'button':
      return '';
    default:
      return (f[d.id] as string | undefined) ?? '';
  }
}

function setFlag(w: WizardState, id: string, v: unknown): WizardState {
  const flags = { ...w.flags, [id]: v } as CreateFlags;
  if (v === '' && (id === 'memory' || id === 'cpus' || id === 'cpuWeight' || id === 'zone' || id === 'bridge')) delete (flags as unknown as Record<string, unknown>)[id];
  return { ...w, flags };
}

export interface WizResult {
  wiz: WizardState;
  submit?: 'create' | 'start';
  cancel?: boolean;
  changed?: boolean;
}

/** Apply one key (canonical name, see keymap.keyName) to the wizard. */
export function wizardKey(w: WizardState, key: string, ctx: WizCtx): WizResult {
  const fields = visibleFields(w.flags);
  let idx = Math.max(0, fields.findIndex((d) => d.id === w.field));
  const d = fields[idx]!;
  const move = (delta: number): WizResult => {
    idx = (idx + delta + fields.length) % fields.length;
    return { wiz: { ...w, field: fields[idx]!.id } };
  };
  if (key === 'escape') return { wiz: w, cancel: true };
  if (key === 'up' || key === 'shift+tab') return move(-1);
  if (key === 'down' || key === 'tab') return move(1);
  if (key === 'enter') {
    if (d.kind === 'button') return { wiz: w, submit: d.id === 'create' ? 'create' : 'start' };
    if (d.kind === 'toggle') return toggle();
    return move(1);
  }
  function toggle(): WizResult {
    const cur = (w.flags as unknown as Record<string, unknown>)[d.id];
    return { wiz: setFlag(w, d.id, !cur), changed: true };
  }
  if (d.kind === 'toggle' && (key === 'space' || key === 'left' || key === 'right')) return toggle();
  if (d.kind === 'choice' && (key === 'left' || key === 'right' || key === 'space')) {
    const opts = d.options!(ctx);
    if (opts.length === 0) return { wiz: w };
    const cur = ((w.flags as unknown as Record<string, unknown>)[d.id] as string | undefined) ?? '';
    const i = opts.findIndex((o) => o.value === cur);
    const n = (i + (key === 'left' ? -1 : 1) + opts.length) % opts.length;
    return { wiz: setFlag(w, d.id, opts[n]!.value), changed: true };
  }
  if (d.kind === 'text' || d.kind === 'list') {
    const cur = fieldValue(w, d, ctx);
    let next: string | null = null;
    if (key === 'backspace') next = cur.slice(0, -1);
    else if (key === 'space') next = cur + ' ';
    else if ([...key].length === 1 && key >= ' ') next = cur + key;
    if (next === null) return { wiz: w };
    if (d.kind === 'text') return { wiz: setFlag(w, d.id, next), changed: true };
    const list = next.split(',').map((s) => s.trim()).filter(Boolean);
    const w2 = setFlag(w, d.id, list);
    return { wiz: { ...w2, text: { ...w.text, [d.id]: next } }, changed: true };
  }
  return { wiz: w };
}
