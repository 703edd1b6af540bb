/**
 * A small table: header row, fixed height, selection kept in view, clipped
 * cells. Only the visible window is rendered; column content widths are
 * computed once per `rows` array (callers memoise rows), and each row is a
 * memoised component, so a selection move re-renders two rows.
 * Boxes clip vertically only: text is truncated to width (see App.tsx).
 */
import React, { useMemo, useRef } from 'react';
import { Box, Text } from 'ink';
import { cellWidth, fitCell, layoutColumns, scrollTop, type ColumnSpec } from './table-layout.js';
import { useTheme, type Theme } from './theme.js';

export interface TableRow {
  key: string;
  cells: Record<string, string>;
  /** colour token per cell key */
  colours?: Record<string, string | undefined>;
  marked?: boolean;
}

export interface TableProps {
  columns: ColumnSpec[];
  rows: TableRow[];
  selected: number;
  width: number;
  /** total height including the header row */
  height: number;
  sortKey?: string;
  sortDesc?: boolean;
  focused?: boolean;
  empty?: string;
}

/** Widest cell per column over all rows (header title + 1 for the sort arrow). */
export function contentWidths(columns: ColumnSpec[], rows: TableRow[]): Record<string, number> {
  const content: Record<string, number> = {};
  for (const c of columns) {
    let w = cellWidth(c.title) + 1;
    for (const r of rows) {
      const v = r.cells[c.key];
      if (v) w = Math.max(w, cellWidth(v));
    }
    content[c.key] = w;
  }
  return content;
}

function sameRecord(a: Record<string, string | undefined> | undefined, b: Record<string, string | undefined> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Keep the previous object for rows whose content did not change, so the
 * memoised row components skip them. `cache` (key -> row) is updated in place.
 */
export function reuseRows(next: TableRow[], cache: Map<string, TableRow>): TableRow[] {
  const out = next.map((r) => {
    const old = cache.get(r.key);
    return old && old.marked === r.marked && sameRecord(old.cells, r.cells) && sameRecord(old.colours, r.colours) ? old : r;
  });
  cache.clear();
  for (const r of out) cache.set(r.key, r);
  return out;
}

interface RowProps {
  row: TableRow;
  columns: ColumnSpec[];
  widths: number[];
  width: number;
  selected: boolean;
  focused: boolean;
  theme: Theme;
}

/** Row text as runs: adjacent cells without a colour are joined into one run (fewer Ink nodes). */
export function rowRuns(row: TableRow, columns: ColumnSpec[], widths: number[], color: boolean): { text: string; color?: string }[] {
  const runs: { text: string; color?: string }[] = [];
  columns.forEach((c, i) => {
    if (!widths[i]) return;
    const text = fitCell(row.cells[c.key] ?? '', widths[i]!, c.align) + (i < columns.length - 1 ? ' ' : '');
    const col = color ? row.colours?.[c.key] : undefined;
    const last = runs[runs.length - 1];
    if (last && last.color === col) last.text += text;
    else runs.push(col ? { text, color: col } : { text });
  });
  return runs;
}

const RowView = React.memo(function RowView({ row, columns, widths, width, selected, focused, theme }: RowProps) {
  const mark = row.marked ? '* ' : selected ? '> ' : '  ';
  return (
    <Box height={1} width={width} overflowY="hidden">
      <Text inverse={selected && focused} bold={selected} wrap="truncate-end">
        {theme.accent && theme.color ? <Text color={theme.accent}>{mark}</Text> : mark}
        {rowRuns(row, columns, widths, theme.color).map((r, k) => (r.color ? <Text key={k} color={r.color}>{r.text}</Text> : r.text))}
      </Text>
    </Box>
  );
});

export function Table(p: TableProps) {
  const theme = useTheme();
  const topRef = useRef(0);
  const body = Math.max(0, p.height - 1);
  const content = useMemo(() => contentWidths(p.columns, p.rows), [p.columns, p.rows]);
  // 2 cells for the mark column
  const widths = useMemo(() => layoutColumns(p.columns, p.width - 2, content), [p.columns, p.width, content]);
  const top = scrollTop(topRef.current, Math.max(0, p.selected), body, p.rows.length);
  topRef.current = top;
  const shown = p.rows.slice(top, top + body);
  const header = p.columns
    .map((c, i) => {
      const arrow = c.key === p.sortKey ? (p.sortDesc ? '↓' : '↑') : '';
      return widths[i] ? fitCell(c.title + arrow, widths[i]!, c.align) : null;
    })
    .filter((x) => x !== null)
    .join(' ');
  return (
    <Box flexDirection="column" width={p.width} height={p.height} overflowY="hidden">
      <Text bold wrap="truncate-end">{'  ' + header}</Text>
      {shown.length === 0 && p.empty ? (
        <Text color={theme.muted} wrap="truncate-end">{'  ' + p.empty}</Text>
      ) : null}
      {shown.map((r, k) => (
        <RowView key={r.key} row={r} columns={p.columns} widths={widths} width={p.width} selected={top + k === p.selected} focused={p.focused !== false} theme={theme} />
      ))}
    </Box>
  );
}
