import { describe, expect, it } from 'vitest';
import { layoutColumns, fitCell, scrollTop } from '../../src/components/table-layout.js';
import { buildKeymap, keyName, keyNames, loadKeymap } from '../../src/ui/keymap.js';
import { nextSeries } from '../../src/state/store.js';
import { resolveSelection } from '../../src/state/ui-store.js';
import { validActions, nextStopMode } from '../../src/ui/actions.js';
import { newWizard, wizardKey, visibleFields } from '../../src/ui/wizard-model.js';
import { createCommandLine, defaultFlags } from '../../src/state/create-flags.js';
import { sparkline } from '../../src/components/sparkline.js';
import { computeLayout } from '../../src/ui/layout.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

describe('table layout', () => {
  const cols = [
    { key: 'a', title: 'A', min: 4, grow: 1, max: 10 },
    { key: 'b', title: 'B', min: 5 },
    { key: 'c', title: 'C', min: 6, drop: 1 },
  ];
  it.each([
    [30, { a: 8, b: 5, c: 6 }, [10, 5, 6]],
    [17, { a: 8, b: 5, c: 6 }, [10, 5, 0]],
    [10, { a: 8, b: 5, c: 6 }, [4, 5, 0]],
  ])('width %i', (w, content, want) => {
    expect(layoutColumns(cols, w, content)).toEqual(want);
  });
  it('fitCell pads, truncates and aligns by cells', () => {
    expect(fitCell('ab', 4)).toBe('ab  ');
    expect(fitCell('ab', 4, 'right')).toBe('  ab');
    expect(fitCell('abcdef', 4)).toBe('abc…');
    expect(fitCell('日本語', 4)).toBe('日… ');
  });
  it('scrollTop keeps the selection visible', () => {
    expect(scrollTop(0, 12, 5, 20)).toBe(8);
    expect(scrollTop(8, 3, 5, 20)).toBe(3);
    expect(scrollTop(15, 2, 5, 4)).toBe(0);
  });
});

describe('keymap', () => {
  it('canonical names; 0x7f (delete on Ink 6.8) is backspace', () => {
    const k = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: true, meta: false } as never;
    expect(keyName('', k)).toBe('backspace');
  });
  it('a chunk of plain characters (paste, tmux send-keys) becomes one key per character', () => {
    const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageUp: false, pageDown: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false } as never;
    expect(keyNames('ab c', none)).toEqual(['a', 'b', 'space', 'c']);
    expect(keyNames('\x7f\x7f\r', none)).toEqual(['backspace', 'backspace', 'enter']);
    expect(keyNames('x\x03', none)).toEqual(['x', 'ctrl+c']);
    expect(keyNames('日本', none)).toEqual(['日', '本']);
    expect(keyNames('q', none)).toEqual(['q']);
  });
  it('user file overrides defaults, bad file falls back with an error', () => {
    const d = mkdtempSync(join(tmpdir(), 'km-'));
    writeFileSync(join(d, 'ok.json'), JSON.stringify({ quit: ['ctrl+q'], shell: 'enter' }));
    const ok = loadKeymap(join(d, 'ok.json'));
    expect(ok.error).toBeUndefined();
    expect(ok.keymap.get('ctrl+q')).toEqual(['quit']);
    expect(ok.keymap.get('q')).toBeUndefined();
    expect(ok.keymap.get('enter')).toEqual(['shell']);
    writeFileSync(join(d, 'bad.json'), JSON.stringify({ nope: 'x' }));
    const bad = loadKeymap(join(d, 'bad.json'));
    expect(bad.error).toContain(`unknown command 'nope'`);
    expect(bad.keymap.get('q')).toEqual(['quit']);
    expect(buildKeymap().get('n')).toEqual(['new', 'searchNext']);
  });
});

describe('state helpers', () => {
  it('nextSeries derives CPU % from usage deltas', () => {
    const a = nextSeries(undefined, { cpuUsageUsec: 1_000_000, memoryCurrent: 10, memoryMax: null }, 1000);
    expect(a.cpuPct).toBeNull();
    const b = nextSeries(a, { cpuUsageUsec: 1_750_000, memoryCurrent: 20, memoryMax: 100 }, 2500);
    expect(b.cpuPct).toBeCloseTo(50);
    expect(b.cpu).toEqual([b.cpuPct]);
    expect(b.mem).toEqual([10, 20]);
  });
  it('nextSeries: counters the host does not expose stay unknown (null), never 0', () => {
    const a = nextSeries(undefined, { cpuUsageUsec: null, memoryCurrent: null, memoryMax: null }, 1000);
    const b = nextSeries(a, { cpuUsageUsec: null, memoryCurrent: null, memoryMax: null }, 2500);
    expect(b.cpuPct).toBeNull();
    expect(b.memCurrent).toBeNull();
    expect(b.mem).toEqual([]);
    expect(b.cpu).toEqual([]);
  });
  it('resolveSelection keeps the name or clamps', () => {
    expect(resolveSelection(['a', 'b', 'c'], 'c', 0)).toBe(2);
    expect(resolveSelection(['a', 'b'], 'c', 2)).toBe(1);
    expect(resolveSelection([], 'c', 2)).toBe(-1);
  });
  it('valid actions by state; stop escalation tiers', () => {
    expect(validActions({ status: 'stopped', enabled: false })).toEqual(['start', 'remove', 'enable']);
    expect(validActions({ status: 'running', enabled: true })).toEqual(['stop', 'restart', 'shell', 'remove', 'disable']);
    expect(validActions({ status: 'running', enabled: true }, 'restart')).toEqual([]);
    expect(validActions({ status: 'stopping', enabled: true }, 'stop')).toEqual(['stop']);
    expect([undefined, 'stop', 'terminate'].map(nextStopMode)).toEqual(['graceful', 'term', 'kill']);
  });
  it('sparkline scales to max', () => {
    expect(sparkline([0, 50, 100], 5, 100)).toBe('  ▁▅█');
  });
  it('layout: minimum size and side-by-side detail only when wide', () => {
    expect(computeLayout(59, 30).tooSmall).toBe(true);
    expect(computeLayout(60, 15).tooSmall).toBe(false);
    expect(computeLayout(80, 24).detailWidth).toBe(0);
    expect(computeLayout(120, 40).detailWidth).toBe(50);
  });
});

describe('wizard model', () => {
  const ctx = { rootfs: ['debian'], pods: ['shop'] };
  it('typing, choices, hidden fields and preview', () => {
    let w = newWizard('web');
    w = wizardKey(w, 'backspace', ctx).wiz;
    expect(w.flags.name).toBe('we');
    w = wizardKey(w, 'down', ctx).wiz;
    w = wizardKey(w, 'right', ctx).wiz;
    expect(w.flags.rootfs).toBe('debian');
    w = wizardKey(wizardKey(w, 'down', ctx).wiz, 'left', ctx).wiz;
    expect(w.flags.network).toBe('pod');
    expect(visibleFields(w.flags).map((f) => f.id)).toContain('pod');
    w = wizardKey(wizardKey(w, 'down', ctx).wiz, 'right', ctx).wiz;
    expect(w.flags.pod).toBe('shop');
    expect(createCommandLine(w.flags)).toBe('sdme create --name we -r debian --pod shop');
    expect(wizardKey(w, 'escape', ctx).cancel).toBe(true);
  });
  it('network bridge shows a Bridge field and previews --network-bridge', () => {
    let w = { ...newWizard('br'), field: 'network' };
    for (let i = 0; i < 3; i++) w = wizardKey(w, 'right', ctx).wiz;
    expect(w.flags.network).toBe('bridge');
    expect(visibleFields(w.flags).map((f) => f.id)).toContain('bridge');
    w = wizardKey(w, 'down', ctx).wiz;
    expect(w.field).toBe('bridge');
    for (const ch of 'br0') w = wizardKey(w, ch, ctx).wiz;
    expect(createCommandLine(w.flags)).toBe('sdme create --name br --network-bridge br0');
  });
  it('list fields split on commas; quoting in the preview', () => {
    let w = { ...newWizard('x'), field: 'envs' };
    for (const ch of 'A=1,B=two words') w = wizardKey(w, ch === ' ' ? 'space' : ch, ctx).wiz;
    expect(w.flags.envs).toEqual(['A=1', 'B=two words']);
    expect(createCommandLine(w.flags)).toBe(`sdme create --name x -e A=1 -e 'B=two words'`);
    expect(createCommandLine({ ...defaultFlags(), preset: 'hardened', network: 'veth' }, true)).toBe('sdme create --network-veth --hardened --started');
  });
});

describe('sandbox decision (main)', () => {
  it('boots the sandbox only for the real engine on a machine whose PID 1 is not systemd', async () => {
    const { wantsSandbox } = await import('../../src/ui/main.js');
    const base = { demo: false, inSandbox: false, noSandbox: false, pid1: 'tini', env: {} };
    expect(wantsSandbox(base)).toBe(true);
    expect(wantsSandbox({ ...base, pid1: '' })).toBe(true);
    expect(wantsSandbox({ ...base, pid1: 'systemd' })).toBe(false);
    expect(wantsSandbox({ ...base, demo: true })).toBe(false);
    expect(wantsSandbox({ ...base, inSandbox: true })).toBe(false);
    expect(wantsSandbox({ ...base, noSandbox: true })).toBe(false);
    expect(wantsSandbox({ ...base, env: { SDME_SANDBOX: 'sdme-sandbox' } })).toBe(false);
  });
});
