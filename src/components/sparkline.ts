const BARS = '▁▂▃▄▅▆▇█';

/** Last `width` values as block characters scaled to max (default: the largest value). */
export function sparkline(values: number[], width: number, max?: number): string {
  if (width <= 0) return '';
  const vs = values.slice(-width);
  const top = max ?? Math.max(0, ...vs);
  const chars = vs.map((v) => {
    if (!(top > 0) || !(v > 0)) return BARS[0]!;
    const i = Math.min(BARS.length - 1, Math.max(0, Math.round((v / top) * (BARS.length - 1))));
    return BARS[i]!;
  });
  return ' '.repeat(width - chars.length) + chars.join('');
}
