/**
 * Journal viewport: renders exactly `height` rows, each clipped to `width` cells.
 * Boxes clip vertically only: text is truncated to width (see App.tsx).
 */
import React, { useMemo, useSyncExternalStore } from 'react';
import { Box, Text } from 'ink';
import type { JournalFeed } from '../state/journal-feed.js';
import { LogLayoutCache, visibleRows, highlight, type ViewOpts } from './log-view-model.js';
import type { Segment } from './log-text.js';
import { useTheme, tagColour, type Theme } from './theme.js';

export interface LogViewProps extends ViewOpts {
  feed: JournalFeed;
  cache?: LogLayoutCache;
}

function SegText({ seg, theme }: { seg: Segment; theme: Theme }) {
  const st = seg.style;
  return (
    <Text
      color={theme.color ? st.fg : undefined}
      backgroundColor={theme.color ? st.bg : undefined}
      bold={st.bold}
      dimColor={st.dim}
      italic={st.italic}
      underline={st.underline}
      inverse={st.inverse}
    >
      {seg.text}
    </Text>
  );
}

export function useFeedVersion(feed: JournalFeed): number {
  return useSyncExternalStore(
    (cb) => feed.subscribe(cb),
    () => feed.version,
  );
}

export function LogView(p: LogViewProps) {
  const theme = useTheme();
  const version = useFeedVersion(p.feed);
  const cache = useMemo(() => p.cache ?? new LogLayoutCache(), [p.cache, p.feed]);
  const rows = visibleRows(
    p.feed.ring,
    { width: p.width, height: p.height, showTs: p.showTs, showTag: p.showTag, anchor: p.anchor, search: p.search },
    cache,
  );
  void version;
  const pad = Math.max(0, p.height - rows.length);
  return (
    <Box flexDirection="column" width={p.width} height={p.height} overflowY="hidden">
      {rows.map((r, i) => (
        <Box key={i} width={p.width} height={1} overflowY="hidden">
          <Text wrap="truncate-end">
            {r.prefix ? <Text color={theme.muted} dimColor={!theme.color}>{r.prefix}</Text> : null}
            {r.tag ? <Text color={tagColour(theme, r.tag)} bold>{r.tag}</Text> : null}
            {highlight(r.segs, p.search).map((s, k) => (
              <SegText key={k} seg={s} theme={theme} />
            ))}
          </Text>
        </Box>
      ))}
      {pad > 0 ? <Box height={pad} /> : null}
    </Box>
  );
}
