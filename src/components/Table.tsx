/** A small table: header row, fixed height, selection kept in view, clipped cells. */
import React, { useRef } from 'react';
import { Box, Text } from 'ink';
import { fitCell, layoutColumns, scrollTop, type ColumnSpec } from './table-layout.js';
import { useTheme } from './theme.js';
import stringWidth from 'string-width';

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

export function Table(p: TableProps) {
  const theme = useTheme();
  const topRef = useRef(0);
  const body = Math.max(0, p.height - 1);
  const content: Record<string, number> = {};
  for (const c of p.columns) {
    content[c.key] = Math.max(stringWidth(c.title) + 1, ...p.rows.map((r) => stringWidth(r.cells[c.key] ?? '')));
  }
  // 2 cells for the mark column
  const widths = layoutColumns(p.columns, p.width - 2, content);
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
    <Box flexDirection="column" width={p.width} height={p.height} overflow="hidden">
      <Text bold wrap="truncate-end">{'  ' + header}</Text>
      {shown.length === 0 && p.empty ? (
        <Text color={theme.muted} wrap="truncate-end">{'  ' + p.empty}</Text>
      ) : null}
      {shown.map((r, k) => {
        const isSel = top + k === p.selected;
        return (
          <Box key={r.key} height={1} width={p.width} overflow="hidden">
            <Text inverse={isSel && p.focused !== false} bold={isSel} wrap="truncate-end">
              <Text color={theme.accent}>{r.marked ? '* ' : isSel ? '> ' : '  '}</Text>
              {p.columns.map((c, i) =>
                widths[i] ? (
                  <Text key={c.key} color={theme.color ? r.colours?.[c.key] : undefined}>
                    {fitCell(r.cells[c.key] ?? '', widths[i]!, c.align) + (i < p.columns.length - 1 ? ' ' : '')}
                  </Text>
                ) : null,
              )}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}
