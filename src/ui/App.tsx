/**
 * The app shell: one input dispatcher (overlay > text entry > keymap by
 * focus), screens laid out at exactly `rows` lines, engine calls through the
 * controller (never blocking input).
 *
 * Boxes here and in the panes/components clip vertically only
 * (overflowY="hidden"): their text is already truncated to width, and an
 * Ink x-clip re-slices every line of every frame (sliceAnsi, about a fifth of
 * a frame's cost). Only the root box clips both ways.
 */
import React, { useEffect, useMemo, useRef, useState } from 'react';
import { Box, Text, useInput, useStdout, type Key } from 'ink';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { AppController, AppState, StatSeries } from '../state/store.js';
import { errorText } from '../state/store.js';
import { resolveSelection, SORT_KEYS, TABS, type UiState } from '../state/ui-store.js';
import type { CommandArgv, ContainerInfo, IsolationSummary, ProgressEvent } from '../state/engine-port.js';
import { JournalFeed } from '../state/journal-feed.js';
import { Table, reuseRows, type TableRow } from '../components/Table.js';
import { LogView } from '../components/LogView.js';
import { LogLayoutCache, findMatch, scrollAnchor } from '../components/log-view-model.js';
import type { ColumnSpec } from '../components/table-layout.js';
import { useTheme, type Theme } from '../components/theme.js';
import { computeLayout, MIN_COLS, MIN_ROWS } from './layout.js';
import { keyNames, keysFor, type Command, type Keymap } from './keymap.js';
import { fmtBytes, fmtDuration, fmtPct, SPINNER } from './format.js';
import { nextStopMode, validActions, type Action } from './actions.js';
import { ConfirmRemove, DetailPane, detailStatTexts, expectedConfirm, Header, HelpOverlay, StatusLine, TabBar } from './panes.js';
import { Wizard } from './Wizard.js';
import { newWizard, wizardKey } from './wizard-model.js';

export interface AppProps {
  ctl: AppController;
  ui: StoreApi<UiState>;
  keymap: Keymap;
  keymapPath: string;
  onQuit: () => void;
  /** hand the terminal to an interactive command; the app is remounted afterwards */
  onHandoff: (argv: CommandArgv) => void;
  /** journal flush interval (tests use small values) */
  flushMs?: number;
  /** delay before switching the journal to a new selection */
  journalDebounceMs?: number;
  /** size override (tests); default: stdout columns/rows with resize events */
  size?: { cols: number; rows: number };
}

export function useTermSize(override?: { cols: number; rows: number }) {
  const { stdout } = useStdout();
  const get = () => ({ cols: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(get);
  useEffect(() => {
    const on = () => setSize(get());
    stdout.on('resize', on);
    return () => void stdout.off('resize', on);
  }, [stdout]);
  return override ?? size;
}

const CT_COLUMNS: ColumnSpec[] = [
  { key: 'name', title: 'NAME', min: 8, grow: 2, max: 28 },
  { key: 'status', title: 'STATUS', min: 8, max: 12 },
  { key: 'health', title: 'HEALTH', min: 7, max: 10, drop: 5 },
  { key: 'os', title: 'OS', min: 6, grow: 2, max: 30, drop: 4 },
  { key: 'rootfs', title: 'ROOTFS', min: 6, grow: 1, max: 16, drop: 6 },
  { key: 'net', title: 'NET', min: 7, max: 12, drop: 3 },
  { key: 'pod', title: 'POD', min: 4, max: 10, drop: 7 },
  { key: 'cpu', title: 'CPU', min: 6, align: 'right' },
  { key: 'mem', title: 'MEM', min: 11, max: 13, align: 'right', drop: 2 },
  { key: 'uptime', title: 'UP', min: 6, align: 'right', drop: 1 },
];

const POD_COLUMNS: ColumnSpec[] = [
  { key: 'name', title: 'NAME', min: 8, grow: 1, max: 24 },
  { key: 'active', title: 'ACTIVE', min: 6 },
  { key: 'net', title: 'NET', min: 6, max: 10 },
  { key: 'members', title: 'MEMBERS', min: 10, grow: 3 },
];

const FS_COLUMNS: ColumnSpec[] = [
  { key: 'name', title: 'NAME', min: 8, grow: 1, max: 24 },
  { key: 'os', title: 'OS', min: 10, grow: 2, max: 40 },
  { key: 'containers', title: 'CONTAINERS', min: 10, grow: 2 },
];

function netLabel(c: ContainerInfo): string {
  const n = c.network;
  return n.pod ? 'pod' : n.network_zone ? `zone:${n.network_zone}` : n.network_bridge ? `br:${n.network_bridge}` : n.network_veth ? 'veth' : n.private_network ? 'private' : 'host';
}

/** Filtered + sorted containers (pure). */
export function containerView(s: AppState, ui: Pick<UiState, 'filter' | 'sortKey' | 'sortDesc'>, now: number): ContainerInfo[] {
  const f = ui.filter.toLowerCase();
  let list = f ? s.containers.filter((c) => [c.name, c.os, c.rootfs, c.status, c.network.pod ?? ''].some((v) => v.toLowerCase().includes(f))) : [...s.containers];
  const val = (c: ContainerInfo): number | string => {
    const st = s.stats[c.name];
    switch (ui.sortKey) {
      case 'status': return c.status;
      case 'cpu': return st?.cpuPct ?? -1;
      case 'mem': return st?.memCurrent ?? -1;
      case 'uptime': return st?.startedAt ? now - st.startedAt : -1;
      default: return c.name;
    }
  };
  list = list.sort((a, b) => {
    const va = val(a);
    const vb = val(b);
    const r = va < vb ? -1 : va > vb ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return ui.sortDesc ? -r : r;
  });
  return list;
}

/** The stat cells of a container row (pure; `now` in ms, shown to the second). */
export function statCells(c: ContainerInfo, st: StatSeries | undefined, now: number): { cpu: string; mem: string; uptime: string } {
  if (c.status !== 'running') return { cpu: '-', mem: '-', uptime: '-' };
  return {
    cpu: fmtPct(st?.cpuPct),
    mem: st?.memCurrent != null ? `${fmtBytes(st.memCurrent)}/${st.memMax ? fmtBytes(st.memMax) : '∞'}` : '-',
    uptime: st?.startedAt ? fmtDuration(Math.floor(now / 1000) * 1000 - st.startedAt) : '-',
  };
}

/**
 * What the screen shows of `stats` (pure): the stat cells of the rows that
 * can be in view (all of them when sorted by a stat) and the detail pane's
 * stat lines. The controller commits a sample only when this changes.
 */
export function statsDisplayKey(
  stats: AppState['stats'],
  now: number,
  v: { rows: (stats: AppState['stats']) => ContainerInfo[]; from: number; to: number; detail: { name: string; inner: number } | null },
): string {
  const parts: string[] = [];
  const rows = v.rows(stats);
  for (let i = Math.max(0, v.from); i < Math.min(rows.length, v.to); i++) {
    const c = rows[i]!;
    const x = statCells(c, stats[c.name], now);
    parts.push(`${c.name}\t${x.cpu}\t${x.mem}\t${x.uptime}`);
  }
  if (v.detail) {
    const d = detailStatTexts(stats[v.detail.name], v.detail.inner);
    parts.push(d.cpuSpark + d.cpuText + d.memSpark + d.memText);
  }
  return parts.join('\n');
}

/** Containers tab rows (pure; memoised by the caller). */
export function buildContainerRows(
  cts: ContainerInfo[],
  stats: AppState['stats'],
  busyMap: AppState['busy'],
  marked: string[],
  spinner: string,
  now: number,
  theme: Theme,
): TableRow[] {
  const markedSet = new Set(marked);
  return cts.map((c) => {
    const st = stats[c.name];
    const busy = busyMap[c.name];
    return {
      key: c.name,
      marked: markedSet.has(c.name),
      cells: {
        name: c.name,
        status: busy ? `${spinner} ${busy}` : c.status,
        health: c.health,
        os: c.os,
        rootfs: c.rootfs || 'host',
        net: netLabel(c),
        pod: c.network.pod ?? '-',
        ...statCells(c, st, now),
      },
      colours: { status: busy ? theme.busy : c.status === 'running' ? theme.running : c.status === 'stopped' ? theme.stopped : theme.busy },
    };
  });
}

export function App(p: AppProps) {
  const theme = useTheme();
  const { cols, rows } = useTermSize(p.size);
  const s = useStore(p.ctl.store);
  const ui = useStore(p.ui);
  const set = p.ui.setState;
  const L = computeLayout(cols, rows);
  const now = p.ctl.now();
  const port = p.ctl.port;

  // spinner tick only while something is busy
  const anyBusy = Object.keys(s.busy).length > 0;
  useEffect(() => {
    if (!anyBusy) return;
    const t = setInterval(() => set((u) => ({ spin: (u.spin + 1) % SPINNER.length })), 120);
    return () => clearInterval(t);
  }, [anyBusy]);

  const cts = useMemo(() => containerView(s, ui, now), [s.containers, s.stats, ui.filter, ui.sortKey, ui.sortDesc]);
  const tabNames: Record<string, string[]> = {
    containers: cts.map((c) => c.name),
    pods: s.pods.map((x) => x.name),
    rootfs: s.rootfs.map((x) => x.name),
  };
  const names = tabNames[ui.tab]!;
  const selIdx = resolveSelection(names, ui.selected[ui.tab], ui.selIndex[ui.tab]);
  const selName = selIdx >= 0 ? names[selIdx]! : null;
  // keep the stored selection in sync (clamped when rows disappear)
  useEffect(() => {
    if (ui.selected[ui.tab] !== selName || ui.selIndex[ui.tab] !== Math.max(0, selIdx)) {
      set((u) => ({ selected: { ...u.selected, [u.tab]: selName }, selIndex: { ...u.selIndex, [u.tab]: Math.max(0, selIdx) } }));
    }
  }, [selName, selIdx, ui.tab]);

  const selCt = ui.tab === 'containers' && selName ? s.containers.find((c) => c.name === selName) : undefined;
  const selPod = ui.tab === 'pods' && selName ? s.pods.find((x) => x.name === selName) : undefined;

  // journal target: the selected container, or every member of the selected pod
  const journalTarget: string[] | null = selCt ? [selCt.name] : selPod ? selPod.members.map((m) => m.name) : null;
  const targetKey = journalTarget ? journalTarget.join(',') : '';
  const [feed, setFeed] = useState<JournalFeed | null>(null);
  const cacheRef = useRef(new LogLayoutCache());
  useEffect(() => {
    if (!journalTarget || journalTarget.length === 0) {
      setFeed(null);
      return;
    }
    let f: JournalFeed | null = null;
    const t = setTimeout(() => {
      f = new JournalFeed({ flushMs: p.flushMs ?? 75 }).start(port, journalTarget.length === 1 ? journalTarget[0]! : journalTarget);
      cacheRef.current = new LogLayoutCache();
      setFeed(f);
      set({ anchor: null });
    }, p.journalDebounceMs ?? 120);
    return () => {
      clearTimeout(t);
      f?.close();
    };
  }, [targetKey]);

  // isolation summary of the selected running container
  const [iso, setIso] = useState<{ name: string; v: IsolationSummary | null }>({ name: '', v: null });
  const selStatus = selCt?.status;
  useEffect(() => {
    if (!selCt || selCt.status !== 'running') {
      setIso({ name: selCt?.name ?? '', v: null });
      return;
    }
    let live = true;
    const name = selCt.name;
    port.inspect(name).then(
      (v) => live && setIso({ name, v }),
      (e) => live && setIso({ name, v: { items: [], notes: [errorText(e)] } }),
    );
    return () => void (live = false);
  }, [selCt?.name, selStatus]);

  const bottomH = L.bottom;
  const wide = L.detailWidth > 0;
  const journalW = wide ? cols - L.detailWidth : cols;
  const logInnerW = Math.max(1, journalW - 2);
  const logInnerH = Math.max(0, bottomH - 3);
  const showTag = (journalTarget?.length ?? 0) > 1;
  const viewOpts = { width: logInnerW, height: logInnerH, showTs: ui.showTs, showTag, anchor: ui.anchor, search: ui.search };

  const targets = (): string[] => {
    if (ui.tab !== 'containers') return [];
    if (ui.marked.length) return ui.marked.filter((n) => s.containers.some((c) => c.name === n));
    return selName ? [selName] : [];
  };

  const runAction = (a: Action) => {
    const list = targets();
    if (list.length === 0) return p.ctl.setStatus('no container selected', 'error');
    if (a === 'remove') {
      const ok = list.filter((n) => !s.busy[n]);
      if (ok.length) set({ overlay: { kind: 'remove', names: ok, typed: '' } });
      return;
    }
    if (a === 'shell') {
      const c = s.containers.find((x) => x.name === list[0]);
      if (!c || !validActions(c, s.busy[c.name]).includes('shell')) return p.ctl.setStatus(`shell: ${list[0]} is not running`, 'error');
      return p.onHandoff(port.shellCommand(c.name));
    }
    const skipped: string[] = [];
    for (const n of list) {
      const c = s.containers.find((x) => x.name === n);
      if (!c) continue;
      const busy = s.busy[n];
      if (!validActions(c, busy).includes(a)) {
        skipped.push(n);
        continue;
      }
      if (a === 'stop' && busy) {
        // second press escalates: terminate, then kill (runs beside the pending stop)
        const mode = nextStopMode(busy);
        p.ctl.store.setState((st) => ({ busy: { ...st.busy, [n]: mode === 'term' ? 'terminate' : 'kill' } }));
        p.ctl.setStatus(`${n}: ${mode === 'term' ? 'terminating' : 'killing'}…`);
        port.stop(n, mode).catch((e) => p.ctl.setStatus(`stop ${n}: ${errorText(e)}`, 'error'));
        continue;
      }
      const fn = {
        start: () => port.start(n, { onProgress: progressTo(n) }),
        stop: () => port.stop(n, 'graceful'),
        restart: () => port.restart(n),
        enable: () => port.enable(n),
        disable: () => port.disable(n),
      }[a as 'start' | 'stop' | 'restart' | 'enable' | 'disable'];
      if (a === 'stop') p.ctl.setStatus(`stopping ${n}… (${keysFor(p.keymap, 'stop')[0]} again: terminate)`);
      void p.ctl.act(n, a, fn, `${a} ${n}: ok`);
    }
    if (skipped.length) p.ctl.setStatus(`${a} not possible now for: ${skipped.join(', ')}`, 'error');
  };

  /** progress -> the row's busy label (phases) and the status line (phases and notes) */
  const progressTo = (name: string) => (ev: ProgressEvent) => {
    const msg = 'message' in ev && ev.message ? ev.message : null;
    if (!msg) return;
    if (ev.kind === 'phase') p.ctl.store.setState((st) => (st.busy[name] ? { busy: { ...st.busy, [name]: msg } } : {}));
    p.ctl.setStatus(`${name}: ${msg}`);
  };

  const wizCtx = { rootfs: s.rootfs.map((r) => r.name), pods: s.pods.map((x) => x.name) };
  const validateSeq = useRef(0);
  const revalidate = (wiz: NonNullable<Extract<UiState['overlay'], { kind: 'wizard' }>>['wiz']) => {
    const seq = ++validateSeq.current;
    port.validateCreateFlags(wiz.flags).then(
      (validation) => {
        if (seq !== validateSeq.current) return;
        const o = p.ui.getState().overlay;
        if (o?.kind === 'wizard') set({ overlay: { kind: 'wizard', wiz: { ...o.wiz, validation } } });
      },
      (e) => p.ctl.setStatus(errorText(e), 'error'),
    );
  };

  const openWizard = () => {
    const wiz = newWizard('');
    set({ overlay: { kind: 'wizard', wiz } });
    port.suggestName().then(
      (name) => {
        const o = p.ui.getState().overlay;
        if (o?.kind === 'wizard' && !o.wiz.flags.name) {
          const w2 = { ...o.wiz, flags: { ...o.wiz.flags, name } };
          set({ overlay: { kind: 'wizard', wiz: w2 } });
          revalidate(w2);
        }
      },
      () => revalidate(wiz),
    );
  };

  const submitWizard = async (wiz: Extract<UiState['overlay'], { kind: 'wizard' }>['wiz'], start: boolean) => {
    const v = await port.validateCreateFlags(wiz.flags).catch((e) => ({ errors: [{ field: 'general' as const, message: errorText(e) }], isolation: null }));
    if (v.errors.length) {
      set({ overlay: { kind: 'wizard', wiz: { ...wiz, validation: v } } });
      return;
    }
    set({ overlay: null, tab: 'containers' });
    const name = wiz.flags.name || '(new)';
    set((u) => ({ selected: { ...u.selected, containers: name } }));
    void p.ctl.act(
      name,
      start ? 'create+start' : 'create',
      () => port.createContainer(wiz.flags, { start, onProgress: progressTo(name) }),
      `created ${name}${start ? ' and started it' : ''}`,
    );
  };

  const doCommand = (cmd: Command): boolean => {
    const ui = p.ui.getState();
    const inJournal = ui.focus === 'journal' && feed !== null;
    switch (cmd) {
      case 'quit': p.onQuit(); return true;
      case 'help': set({ overlay: { kind: 'help' } }); return true;
      case 'tab1': case 'tab2': case 'tab3':
        set({ tab: TABS[Number(cmd.slice(3)) - 1]!, focus: 'list', marked: [] }); return true;
      case 'tabNext': case 'tabPrev': {
        if (inJournal) return false;
        const i = TABS.indexOf(ui.tab);
        set({ tab: TABS[(i + (cmd === 'tabNext' ? 1 : TABS.length - 1)) % TABS.length]!, focus: 'list', marked: [] });
        return true;
      }
      case 'focus':
        if (ui.tab === 'rootfs') return true;
        set({ focus: ui.focus === 'list' ? 'journal' : 'list', bottom: ui.focus === 'list' ? 'journal' : ui.bottom });
        return true;
      case 'detail': set({ bottom: ui.bottom === 'journal' ? 'detail' : 'journal' }); return true;
      case 'refresh': void p.ctl.refreshAll(); p.ctl.setStatus('refreshed'); return true;
      case 'filter':
        if (inJournal) set({ searchEditing: true, search: '' });
        else set({ filterEditing: true });
        return true;
    }
    if (inJournal && feed) {
      const page = Math.max(1, logInnerH - 1);
      const scroll = (d: number) => set({ anchor: scrollAnchor(feed.ring, viewOpts, d, cacheRef.current) });
      switch (cmd) {
        case 'up': scroll(-1); return true;
        case 'down': scroll(1); return true;
        case 'pageUp': scroll(-page); return true;
        case 'pageDown': scroll(page); return true;
        case 'bottom': set({ anchor: null }); return true;
        case 'top': set({ anchor: feed.ring.length ? { pos: feed.ring.dropped, rowsBelow: 0 } : null }); return true;
        case 'follow':
          set({ anchor: ui.anchor ? null : scrollAnchor(feed.ring, viewOpts, -1, cacheRef.current) ?? { pos: feed.ring.dropped + Math.max(0, feed.ring.length - 1), rowsBelow: 0 } });
          return true;
        case 'timestamps': set({ showTs: !ui.showTs }); return true;
        case 'searchNext': case 'searchPrev': {
          if (!ui.search) return true;
          const from = ui.anchor ? ui.anchor.pos : feed.ring.dropped + feed.ring.length;
          const m = findMatch(feed.ring, ui.search, from, cmd === 'searchNext' ? -1 : 1);
          if (m === null) p.ctl.setStatus(`no more matches for "${ui.search}"`, 'error');
          else set({ anchor: m >= feed.ring.dropped + feed.ring.length - 1 ? null : { pos: m, rowsBelow: 0 } });
          return true;
        }
      }
      return false;
    }
    const move = (d: number) => {
      if (names.length === 0) return;
      const u = p.ui.getState();
      const cur = resolveSelection(names, u.selected[u.tab], u.selIndex[u.tab]);
      const i = Math.max(0, Math.min(names.length - 1, cur + d));
      set((u) => ({ selected: { ...u.selected, [u.tab]: names[i]! }, selIndex: { ...u.selIndex, [u.tab]: i } }));
    };
    const page = Math.max(1, L.list - 2);
    switch (cmd) {
      case 'up': move(-1); return true;
      case 'down': move(1); return true;
      case 'pageUp': move(-page); return true;
      case 'pageDown': move(page); return true;
      case 'top': move(-names.length); return true;
      case 'bottom': move(names.length); return true;
      case 'timestamps': set({ showTs: !ui.showTs }); return true;
      case 'follow': set({ anchor: null }); return true;
    }
    if (ui.tab !== 'containers') return false;
    switch (cmd) {
      case 'sort': set({ sortKey: SORT_KEYS[(SORT_KEYS.indexOf(ui.sortKey) + 1) % SORT_KEYS.length]! }); return true;
      case 'sortReverse': set({ sortDesc: !ui.sortDesc }); return true;
      case 'mark':
        if (selName) set({ marked: ui.marked.includes(selName) ? ui.marked.filter((n) => n !== selName) : [...ui.marked, selName] });
        move(1);
        return true;
      case 'markAll': set({ marked: ui.marked.length ? [] : [...names] }); return true;
      case 'new': openWizard(); return true;
      case 'start': case 'stop': case 'restart': case 'remove': case 'enable': case 'disable': case 'shell':
        runAction(cmd); return true;
    }
    return false;
  };

  useInput((input: string, key: Key) => {
    p.ctl.noteInput();
    for (const k of keyNames(input, key)) onKey(k);
  });

  function onKey(k: string): void {
    // read the freshest UI state: several keys may arrive before a re-render
    const ui = p.ui.getState();
    const o = ui.overlay;
    if (o?.kind === 'help') {
      set({ overlay: null });
      return;
    }
    if (o?.kind === 'remove') {
      if (k === 'escape') set({ overlay: null });
      else if (k === 'enter') {
        if (o.typed === expectedConfirm(o.names)) {
          set({ overlay: null, marked: [] });
          for (const n of o.names) void p.ctl.act(n, 'remove', () => port.remove(n), `removed ${n}`);
        } else p.ctl.setStatus(`type "${expectedConfirm(o.names)}" to confirm`, 'error');
      } else if (k === 'backspace') set({ overlay: { ...o, typed: o.typed.slice(0, -1) } });
      else if (k === 'space') set({ overlay: { ...o, typed: o.typed + ' ' } });
      else if ([...k].length === 1) set({ overlay: { ...o, typed: o.typed + k } });
      return;
    }
    if (o?.kind === 'wizard') {
      if (k === 'ctrl+c') return p.onQuit();
      const r = wizardKey(o.wiz, k, wizCtx);
      if (r.cancel) set({ overlay: null });
      else if (r.submit) void submitWizard(r.wiz, r.submit === 'start');
      else {
        set({ overlay: { kind: 'wizard', wiz: r.wiz } });
        if (r.changed) revalidate(r.wiz);
      }
      return;
    }
    if (ui.filterEditing || ui.searchEditing) {
      const field = ui.filterEditing ? 'filter' : 'search';
      const cur = ui[field];
      if (k === 'enter') set({ filterEditing: false, searchEditing: false });
      else if (k === 'escape') set({ filterEditing: false, searchEditing: false, [field]: '' });
      else if (k === 'backspace') set({ [field]: cur.slice(0, -1) } as Partial<UiState>);
      else if (k === 'space') set({ [field]: cur + ' ' } as Partial<UiState>);
      else if ([...k].length === 1) set({ [field]: cur + k } as Partial<UiState>);
      if (field === 'search' && k === 'enter' && feed && cur) {
        const m = findMatch(feed.ring, cur, feed.ring.dropped + feed.ring.length, -1);
        if (m === null) p.ctl.setStatus(`no match for "${cur}"`, 'error');
        else set({ anchor: m >= feed.ring.dropped + feed.ring.length - 1 ? null : { pos: m, rowsBelow: 0 } });
      }
      return;
    }
    if (k === 'escape') {
      if (ui.focus === 'journal') set({ focus: 'list' });
      else if (ui.filter) set({ filter: '' });
      else if (ui.marked.length) set({ marked: [] });
      return;
    }
    for (const cmd of p.keymap.get(k) ?? []) if (doCommand(cmd)) return;
  }

  // table rows, rebuilt only when their inputs change (uptime ticks per second)
  const nowSec = Math.floor(now / 1000);
  const rowCache = useRef(new Map<string, TableRow>());
  const ctRows = useMemo(
    () => reuseRows(buildContainerRows(cts, s.stats, s.busy, ui.marked, SPINNER[ui.spin] ?? '', nowSec * 1000, theme), rowCache.current),
    [cts, s.stats, s.busy, ui.marked, ui.spin, nowSec, theme],
  );

  useEffect(() => () => p.ctl.setDisplayKey(null), []);
  // after each render: tell the sampler which stat strings are on screen now
  useEffect(() => {
    const overlay = ui.overlay?.kind;
    const shown = !L.tooSmall && ui.tab === 'containers' && overlay !== 'help' && overlay !== 'wizard';
    if (!shown) return p.ctl.setDisplayKey(() => '');
    // rows that can be in view: the selection is, so the window lies within a body height of it
    const byStat = ui.sortKey === 'cpu' || ui.sortKey === 'mem' || ui.sortKey === 'uptime';
    const from = byStat ? 0 : selIdx - L.body;
    const to = byStat ? Infinity : selIdx + L.body + 1;
    const detailShown = selCt && overlay !== 'remove' && bottomH > 2 && (wide || (ui.bottom === 'detail' && ui.focus !== 'journal'));
    const detail = detailShown ? { name: selCt.name, inner: (wide ? L.detailWidth : cols) - 2 } : null;
    const view = { filter: ui.filter, sortKey: ui.sortKey, sortDesc: ui.sortDesc };
    const containers = s.containers;
    p.ctl.setDisplayKey((stats, t) =>
      statsDisplayKey(stats, t, { rows: (st) => (byStat ? containerView({ ...p.ctl.store.getState(), containers, stats: st }, view, t) : cts), from, to, detail }),
    );
  });

  const headerCounts = useMemo(
    () => ({ running: s.containers.filter((c) => c.status === 'running').length, stopped: s.containers.filter((c) => c.status === 'stopped').length, pods: s.pods.length }),
    [s.containers, s.pods],
  );
  const counts = useMemo(() => ({ containers: s.containers.length, pods: s.pods.length, rootfs: s.rootfs.length }), [s.containers, s.pods, s.rootfs]);

  if (L.tooSmall) {
    return (
      <Box width={cols} height={rows} flexDirection="column" overflow="hidden">
        <Text wrap="truncate-end">{`Terminal too small: ${cols}x${rows}.`}</Text>
        <Text wrap="truncate-end">{`sdme-tui needs at least ${MIN_COLS}x${MIN_ROWS}.`}</Text>
        <Text wrap="truncate-end">q quits.</Text>
      </Box>
    );
  }

  // ---- status line
  let status: { text: string; kind: 'info' | 'error' | 'hint' };
  if (ui.filterEditing) status = { text: `filter: ${ui.filter}█  (Enter keep, Esc clear)`, kind: 'info' };
  else if (ui.searchEditing) status = { text: `search: ${ui.search}█  (Enter find, Esc clear)`, kind: 'info' };
  else if (s.status && Date.now() - s.status.at < 8000) status = { text: s.status.text, kind: s.status.kind };
  else if (ui.focus === 'journal') status = { text: `journal: ${ui.anchor ? 'paused' : 'following'}  f follow  t time  / search  n/N next/prev  Esc back`, kind: 'hint' };
  else if (selCt) {
    const acts = validActions(selCt, s.busy[selCt.name]);
    const hint = acts.map((a) => `${keysFor(p.keymap, a)[0] ?? '?'} ${a}`).join('  ');
    status = { text: `${hint}  n new  space mark  / filter  ? help${ui.marked.length ? `  [${ui.marked.length} marked]` : ''}`, kind: 'hint' };
  } else status = { text: 'n new  / filter  ? help  q quit', kind: 'hint' };

  // ---- body
  let body: React.ReactNode;
  const o = ui.overlay;
  if (o?.kind === 'help') body = <HelpOverlay km={p.keymap} cols={cols} height={L.body} keymapPath={p.keymapPath} />;
  else if (o?.kind === 'wizard') body = <Wizard wiz={o.wiz} ctx={wizCtx} cols={cols} height={L.body} />;
  else {
    let list: React.ReactNode;
    let listH = L.list;
    if (ui.tab === 'containers') {
      list = (
        <Table columns={CT_COLUMNS} rows={ctRows} selected={selIdx} width={cols} height={listH} sortKey={ui.sortKey} sortDesc={ui.sortDesc}
          focused={ui.focus === 'list'} empty={s.loaded ? (ui.filter ? `no container matches "${ui.filter}"` : 'no containers — n creates one') : 'loading…'} />
      );
    } else if (ui.tab === 'pods') {
      const rowsT: TableRow[] = s.pods.map((x) => ({
        key: x.name,
        cells: { name: x.name, active: x.active ? 'yes' : 'no', net: x.netMode ?? '-', members: x.members.map((m) => m.name).join(', ') || '-' },
        colours: { active: x.active ? theme.running : theme.stopped },
      }));
      list = <Table columns={POD_COLUMNS} rows={rowsT} selected={selIdx} width={cols} height={listH} focused={ui.focus === 'list'} empty="no pods found" />;
    } else {
      listH = L.body;
      const rowsT: TableRow[] = s.rootfs.map((r) => ({ key: r.name, cells: { name: r.name, os: r.os, containers: r.containers.join(', ') || '-' } }));
      list = <Table columns={FS_COLUMNS} rows={rowsT} selected={selIdx} width={cols} height={listH} empty="no root filesystems found" />;
    }
    let bottom: React.ReactNode = null;
    if (ui.tab !== 'rootfs' && bottomH > 2) {
      const title = journalTarget
        ? `journal ${journalTarget.join(' + ')}${ui.anchor ? ' [paused]' : ' [follow]'}${ui.search ? `  /${ui.search}` : ''}${feed?.error ? `  error: ${feed.error}` : ''}`
        : 'journal';
      const journal = (
        <Box borderStyle="round" borderColor={ui.focus === 'journal' ? theme.accent : theme.border} width={journalW} height={bottomH} flexDirection="column" overflowY="hidden">
          <Box height={1} overflowY="hidden">
            <Text bold={ui.focus === 'journal'} color={theme.muted} wrap="truncate-end">{title}</Text>
          </Box>
          {feed ? (
            <LogView feed={feed} width={logInnerW} height={logInnerH} showTs={ui.showTs} showTag={showTag} anchor={ui.anchor} search={ui.search || undefined} cache={cacheRef.current} />
          ) : (
            <Box height={logInnerH} />
          )}
        </Box>
      );
      const detail = <DetailPane c={selCt} st={selCt ? s.stats[selCt.name] : undefined} iso={iso.name === selCt?.name ? iso.v : null} width={wide ? L.detailWidth : cols} height={bottomH} />;
      if (wide) bottom = <Box height={bottomH}>{detail}{journal}</Box>;
      else bottom = ui.bottom === 'detail' && ui.focus !== 'journal' ? detail : journal;
      if (ui.tab === 'pods') {
        bottom = (
          <Box borderStyle="round" borderColor={ui.focus === 'journal' ? theme.accent : theme.border} width={cols} height={bottomH} flexDirection="column" overflowY="hidden">
            <Box height={1} overflowY="hidden">
              <Text color={theme.muted} wrap="truncate-end">{title}</Text>
            </Box>
            {feed ? (
              <LogView feed={feed} width={cols - 2} height={logInnerH} showTs={ui.showTs} showTag={showTag} anchor={ui.anchor} search={ui.search || undefined} cache={cacheRef.current} />
            ) : (
              <Box height={logInnerH} />
            )}
          </Box>
        );
      }
    }
    body = (
      <Box flexDirection="column" height={L.body} overflowY="hidden">
        <Box height={listH} overflowY="hidden">{list}</Box>
        {bottom}
      </Box>
    );
    if (o?.kind === 'remove') {
      body = (
        <Box flexDirection="column" height={L.body} overflowY="hidden">
          <Box height={L.body - 5} overflowY="hidden">{list}</Box>
          <ConfirmRemove names={o.names} typed={o.typed} cols={cols} height={5} />
        </Box>
      );
    }
  }

  return (
    <Box width={cols} height={rows} flexDirection="column" overflow="hidden">
      <Header host={s.host} counts={headerCounts} cols={cols} />
      <TabBar tab={ui.tab} cols={cols} counts={counts} />
      <Box height={L.body} overflowY="hidden" flexDirection="column">{body}</Box>
      <StatusLine text={status.text} kind={status.kind} cols={cols} />
    </Box>
  );
}
