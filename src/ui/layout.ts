/** Screen geometry (pure): every pane gets a fixed height so the root is exactly `rows`. */
export const MIN_COLS = 60;
export const MIN_ROWS = 15;

export interface Layout {
  tooSmall: boolean;
  cols: number;
  rows: number;
  /** rows between the tab bar and the status line */
  body: number;
  /** containers/pods list height (incl. table header) */
  list: number;
  /** bottom area height (incl. borders) */
  bottom: number;
  /** detail pane width when beside the journal, 0 = one pane at a time */
  detailWidth: number;
}

export function computeLayout(cols: number, rows: number): Layout {
  const tooSmall = cols < MIN_COLS || rows < MIN_ROWS;
  const body = Math.max(0, rows - 3);
  const list = Math.max(4, Math.floor(body * 0.4));
  const bottom = Math.max(0, body - list);
  const detailWidth = cols >= 110 ? Math.min(56, Math.floor(cols * 0.42)) : 0;
  return { tooSmall, cols, rows, body, list, bottom, detailWidth };
}
