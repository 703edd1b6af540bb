/**
 * Header, tab bar, status line, detail pane, help and confirm overlays.
 * Boxes clip vertically only: text is truncated to width (see App.tsx).
 */
import React from 'react';
import { Box, Text } from 'ink';
import type { StatSeries } from '../state/store.js';
import type { ContainerInfo, HostInfo, IsolationSummary } from '../state/engine-port.js';
import type { Tab } from '../state/ui-store.js';
import { useTheme } from '../components/theme.js';
import { sparkline } from '../components/sparkline.js';
import { fitCell } from '../components/table-layout.js';
import { fmtBytes, fmtPct } from './format.js';
import { COMMAND_HELP, keysFor, type Command, type Keymap } from './keymap.js';

export interface HeaderCounts {
  running: number;
  stopped: number;
  pods: number;
}

export const Header = React.memo(function Header({ host: h, counts, cols }: { host: HostInfo | null; counts: HeaderCounts; cols: number }) {
  const theme = useTheme();
  const left = `sdme-tui  ${h?.hostname ?? '…'}  systemd ${h?.systemdVersion ?? '?'}`;
  const mid = `running ${counts.running}  stopped ${counts.stopped}  pods ${counts.pods}`;
  const right = `${h?.datadir ?? ''}`;
  const sandbox = h?.sandbox ? ` sandbox ${h.sandboxName ?? ''} `.replace(/  $/, ' ') : '';
  return (
    <Box height={1} width={cols} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold color={theme.accent}>{left}</Text>
        {sandbox ? <Text inverse color={theme.busy}>{' ' + sandbox.trim() + ' '}</Text> : null}
        <Text>{'  ' + mid + '  '}</Text>
        <Text color={theme.muted}>{right}</Text>
      </Text>
    </Box>
  );
});

const TAB_LABEL: Record<Tab, string> = { containers: 'Containers', pods: 'Pods', rootfs: 'Root filesystems' };

export const TabBar = React.memo(function TabBar({ tab, cols, counts }: { tab: Tab; cols: number; counts: Record<Tab, number> }) {
  const theme = useTheme();
  return (
    <Box height={1} width={cols} overflowY="hidden">
      <Text wrap="truncate-end">
        {(Object.keys(TAB_LABEL) as Tab[]).map((t, i) => (
          <Text key={t} inverse={t === tab} bold={t === tab} color={t === tab ? theme.accent : undefined}>
            {` ${i + 1} ${TAB_LABEL[t]} (${counts[t]}) `}
          </Text>
        ))}
        <Text color={theme.muted}>{'   ? help'}</Text>
      </Text>
    </Box>
  );
});

export const StatusLine = React.memo(function StatusLine({ text, kind, cols }: { text: string; kind: 'info' | 'error' | 'hint'; cols: number }) {
  const theme = useTheme();
  return (
    <Box height={1} width={cols} overflowY="hidden">
      <Text wrap="truncate-end" color={kind === 'error' ? theme.error : kind === 'hint' ? theme.muted : undefined} bold={kind === 'error'}>
        {kind === 'error' && !theme.color ? 'error: ' + text : text}
      </Text>
    </Box>
  );
});

/** Rows of the detail pane as [label, value] pairs (pure, tested). */
export function detailLines(c: ContainerInfo): [string, string][] {
  const n = c.network;
  const net = n.pod ? `pod ${n.pod}` : n.network_zone ? `zone ${n.network_zone}` : n.network_bridge ? `bridge ${n.network_bridge}` : n.network_veth ? 'veth' : n.private_network ? 'private' : 'host';
  const lim = c.limits;
  const limits = [lim.memory && `mem ${lim.memory}`, lim.cpus && `cpus ${lim.cpus}`, lim.cpu_weight && `weight ${lim.cpu_weight}`].filter(Boolean).join(' ') || 'none';
  return [
    ['status', `${c.status}${c.health && c.health !== '-' && c.health !== c.status ? ` (${c.health})` : ''}`],
    ['rootfs', c.rootfs || 'host'],
    ['os', c.os || '-'],
    ['network', net + (n.ports.length ? ` ports ${n.ports.join(',')}` : '')],
    ['addresses', c.addresses.join(' ') || '-'],
    ['limits', limits],
    ['userns', c.userns ? 'yes' : 'no'],
    ['enabled', c.enabled ? 'yes' : 'no'],
    ['binds', c.binds.join(' ') || '-'],
  ];
}

/** The detail pane's cpu and memory lines for an inner width (pure). */
export function detailStatTexts(st: StatSeries | undefined, inner: number): { cpuSpark: string; cpuText: string; memSpark: string; memText: string } {
  const sw = Math.max(4, Math.min(40, inner - 24));
  return {
    cpuSpark: sparkline(st?.cpu ?? [], sw, Math.max(100, ...(st?.cpu ?? [0]))),
    cpuText: ' ' + fmtPct(st?.cpuPct),
    memSpark: sparkline(st?.mem ?? [], sw, st?.memMax ?? undefined),
    memText: st?.memCurrent != null ? ` ${fmtBytes(st.memCurrent)}/${st.memMax ? fmtBytes(st.memMax) : '∞'}` : ' - (not exposed by this host\'s cgroups)',
  };
}

export const DetailPane = React.memo(function DetailPane(p: {
  c: ContainerInfo | undefined;
  st: StatSeries | undefined;
  iso: IsolationSummary | null;
  width: number;
  height: number;
}) {
  const theme = useTheme();
  const inner = Math.max(1, p.width - 2);
  const rows: React.ReactNode[] = [];
  if (!p.c) rows.push(<Text key="none" color={theme.muted}>no container selected</Text>);
  else {
    const c = p.c;
    rows.push(<Text key="t" bold>{fitCell(c.name, inner)}</Text>);
    for (const [k, v] of detailLines(c)) {
      rows.push(
        <Text key={k} wrap="truncate-end">
          <Text color={theme.muted}>{fitCell(k, 10)}</Text>
          {v}
        </Text>,
      );
    }
    const t = detailStatTexts(p.st, inner);
    rows.push(
      <Text key="cpu" wrap="truncate-end">
        <Text color={theme.muted}>{fitCell('cpu', 10)}</Text>
        <Text color={theme.running}>{t.cpuSpark}</Text>
        {t.cpuText}
      </Text>,
    );
    rows.push(
      <Text key="mem" wrap="truncate-end">
        <Text color={theme.muted}>{fitCell('memory', 10)}</Text>
        <Text color={theme.accent}>{t.memSpark}</Text>
        {t.memText}
      </Text>,
    );
    if (p.iso) {
      const lw = 18;
      const vw = Math.max(6, Math.floor((inner - lw) / 2) - 1);
      rows.push(
        <Text key="isoh" bold wrap="truncate-end">
          {fitCell('isolation', lw) + fitCell('this', vw) + ' ' + fitCell('docker default', vw)}
        </Text>,
      );
      for (const it of p.iso.items) {
        const col = it.verdict === 'stronger' ? theme.ok : it.verdict === 'weaker' ? theme.error : undefined;
        const mark = it.verdict === 'stronger' ? '+' : it.verdict === 'weaker' ? '!' : ' ';
        rows.push(
          <Text key={'iso' + it.label} wrap="truncate-end">
            <Text color={theme.muted}>{fitCell(it.label, lw)}</Text>
            <Text color={col}>{fitCell(mark + it.ours, vw)}</Text>
            {' ' + fitCell(it.docker, vw)}
          </Text>,
        );
      }
    } else if (c.status === 'running') {
      rows.push(<Text key="isow" color={theme.muted}>isolation: reading…</Text>);
    } else {
      rows.push(<Text key="isos" color={theme.muted}>isolation: shown while running</Text>);
    }
  }
  return (
    <Box borderStyle="round" borderColor={theme.border} width={p.width} height={p.height} flexDirection="column" overflowY="hidden">
      {rows.slice(0, Math.max(0, p.height - 2)).map((r, i) => (
        <Box key={i} height={1} overflowY="hidden">
          {r}
        </Box>
      ))}
    </Box>
  );
});

const HELP_GROUPS: [string, Command[]][] = [
  ['Navigation', ['up', 'down', 'pageUp', 'pageDown', 'top', 'bottom', 'tabNext', 'tabPrev', 'tab1', 'tab2', 'tab3', 'focus', 'detail', 'filter', 'sort', 'sortReverse', 'refresh', 'help', 'quit']],
  ['Containers', ['start', 'stop', 'restart', 'remove', 'enable', 'disable', 'mark', 'markAll', 'shell', 'new']],
  ['Journal', ['follow', 'timestamps', 'searchNext', 'searchPrev']],
];

export function HelpOverlay({ km, cols, height, keymapPath }: { km: Keymap; cols: number; height: number; keymapPath: string }) {
  const theme = useTheme();
  const lines: React.ReactNode[] = [];
  const twoCol = cols >= 70;
  const entries: React.ReactNode[] = [];
  for (const [g, cmds] of HELP_GROUPS) {
    entries.push(<Text key={g} bold color={theme.accent}>{g}</Text>);
    for (const c of cmds) {
      entries.push(
        <Text key={c} wrap="truncate-end">
          {fitCell(keysFor(km, c).join(' '), twoCol && cols < 100 ? 10 : 16)}
          {COMMAND_HELP[c]}
        </Text>,
      );
    }
  }
  const inner = height - 2;
  const colW = twoCol ? Math.floor((cols - 4) / 2) : cols - 4;
  if (twoCol) {
    const half = Math.ceil(entries.length / 2);
    for (let i = 0; i < Math.min(inner - 1, half); i++) {
      lines.push(
        <Box key={i} height={1}>
          <Box width={colW} overflowY="hidden">{entries[i]}</Box>
          <Box width={colW} overflowY="hidden">{entries[i + half] ?? null}</Box>
        </Box>,
      );
    }
  } else {
    for (let i = 0; i < Math.min(inner - 1, entries.length); i++) lines.push(<Box key={i} height={1} width={colW} overflowY="hidden">{entries[i]}</Box>);
  }
  return (
    <Box borderStyle="round" borderColor={theme.accent} width={cols} height={height} flexDirection="column" overflowY="hidden">
      {lines}
      <Text color={theme.muted} wrap="truncate-end">{`keymap: ${keymapPath} (JSON: {"command": "key" | ["keys"]}) — any key closes`}</Text>
    </Box>
  );
}

export function ConfirmRemove({ names, typed, cols, height }: { names: string[]; typed: string; cols: number; height: number }) {
  const theme = useTheme();
  const expect = names.length === 1 ? names[0]! : `remove ${names.length}`;
  return (
    <Box borderStyle="round" borderColor={theme.error} width={cols} height={height} flexDirection="column" overflowY="hidden">
      <Text bold color={theme.error} wrap="truncate-end">{`Remove ${names.length === 1 ? `container '${names[0]}'` : `${names.length} containers: ${names.join(', ')}`}?`}</Text>
      <Text wrap="truncate-end">{`This stops it and deletes its files. Type "${expect}" and press Enter (Esc cancels).`}</Text>
      <Text wrap="truncate-end">{'> ' + typed + '█'}</Text>
    </Box>
  );
}

export function expectedConfirm(names: string[]): string {
  return names.length === 1 ? names[0]! : `remove ${names.length}`;
}
