/** Quick-create wizard view: fields, inline errors, command preview, isolation preview. */
import React from 'react';
import { Box, Text } from 'ink';
import type { WizardState } from '../state/ui-store.js';
import { useTheme } from '../components/theme.js';
import { fitCell } from '../components/table-layout.js';
import { createCommandLine } from '../state/create-flags.js';
import { fieldValue, visibleFields, type WizCtx } from './wizard-model.js';

export function Wizard({ wiz, ctx, cols, height }: { wiz: WizardState; ctx: WizCtx; cols: number; height: number }) {
  const theme = useTheme();
  const inner = height - 2;
  const fields = visibleFields(wiz.flags);
  const errs = wiz.validation?.errors ?? [];
  const wide = cols >= 100;
  const leftW = wide ? Math.floor((cols - 2) * 0.5) : cols - 2;
  const rows: React.ReactNode[] = [];
  const cur = fields.findIndex((f) => f.id === wiz.field);
  // keep the current field in view
  const fieldRows = Math.max(3, inner - (wide ? 3 : 5));
  const top = Math.max(0, Math.min(cur - Math.floor(fieldRows / 2), fields.length - fieldRows));
  for (const d of fields.slice(top, top + fieldRows)) {
    const sel = d.id === wiz.field;
    const err = errs.find((e) => e.field === d.id);
    if (d.kind === 'button') {
      rows.push(
        <Text key={d.id} inverse={sel} bold color={theme.accent}>
          {` [ ${d.label} ] `}
        </Text>,
      );
      continue;
    }
    rows.push(
      <Text key={d.id} wrap="truncate-end">
        <Text inverse={sel}>{fitCell(d.label, 20)}</Text>
        {' ' + fieldValue(wiz, d, ctx)}
        {sel && (d.kind === 'text' || d.kind === 'list') ? '█' : ''}
        {err ? <Text color={theme.error}>{'  ✗ ' + err.message}</Text> : null}
      </Text>,
    );
  }
  const general = errs.filter((e) => !fields.some((f) => f.id === e.field));
  const preview = createCommandLine(wiz.flags);
  const iso = wiz.validation?.isolation;
  const right: React.ReactNode[] = [];
  right.push(<Text key="h" bold>{'isolation          this                docker'}</Text>);
  for (const it of iso?.items ?? []) {
    right.push(
      <Text key={it.label} wrap="truncate-end">
        <Text color={theme.muted}>{fitCell(it.label, 19)}</Text>
        <Text color={it.verdict === 'stronger' ? theme.ok : it.verdict === 'weaker' ? theme.error : undefined}>{fitCell(it.ours, 19) + ' '}</Text>
        {it.docker}
      </Text>,
    );
  }
  return (
    <Box borderStyle="round" borderColor={theme.accent} width={cols} height={height} flexDirection="column" overflow="hidden">
      <Box height={1}>
        <Text bold wrap="truncate-end">New container — ↑↓ move, ←→/space change, type to edit, Enter on a button, Esc cancel</Text>
      </Box>
      <Box height={inner - (wide ? 2 : 3)} overflow="hidden">
        <Box width={leftW} flexDirection="column" overflow="hidden">
          {rows.map((r, i) => (
            <Box key={i} height={1} overflow="hidden">{r}</Box>
          ))}
        </Box>
        {wide ? (
          <Box flexDirection="column" overflow="hidden" flexGrow={1}>
            {right.map((r, i) => (
              <Box key={i} height={1} overflow="hidden">{r}</Box>
            ))}
          </Box>
        ) : null}
      </Box>
      {!wide && iso ? (
        <Text wrap="truncate-end" color={theme.muted}>
          {iso.items.map((i) => `${i.label}: ${i.ours}`).join(' · ')}
        </Text>
      ) : null}
      <Text wrap="truncate-end" color={general.length ? theme.error : theme.muted}>
        {general.length ? general.map((e) => e.message).join('; ') : errs.length ? `${errs.length} problem(s) to fix` : 'valid'}
      </Text>
      <Text wrap="truncate-end">
        <Text color={theme.accent}>$ </Text>
        {preview}
      </Text>
    </Box>
  );
}
