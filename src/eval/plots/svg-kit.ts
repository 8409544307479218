// Small helpers shared by the hand-written SVG plots: escaping, scales, "nice" ticks, axes and
// legends, one visual style. Plots are plain strings so they render identically in a browser,
// in librsvg (via sharp, for PNG) and in tests.

export const FONT_FAMILY = 'DejaVu Sans, Arial, sans-serif';

/** Colour-blind-safe pair (Okabe–Ito blue and vermillion) plus greys. */
export const COLOURS = {
  train: '#0072B2',
  validation: '#D55E00',
  curve: '#0072B2',
  reference: '#888888',
  axis: '#222222',
  grid: '#e6e6e6',
  best: '#009E73',
} as const;

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Rounds coordinates to 0.01 px: enough for rendering, and keeps the SVG compact. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  rotate?: number;
  baseline?: 'auto' | 'middle' | 'hanging';
}

export function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const transform = o.rotate ? ` transform="rotate(${o.rotate} ${px(x)} ${px(y)})"` : '';
  const baseline = o.baseline && o.baseline !== 'auto' ? ` dominant-baseline="${o.baseline}"` : '';
  return (
    `<text x="${px(x)}" y="${px(y)}" font-size="${o.size ?? 13}" text-anchor="${o.anchor ?? 'start'}"` +
    `${o.weight === 'bold' ? ' font-weight="bold"' : ''} fill="${o.fill ?? COLOURS.axis}"${baseline}${transform}>` +
    `${escapeXml(content)}</text>`
  );
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1, dash?: string): string {
  const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
  return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}" stroke-width="${width}"${dashAttr}/>`;
}

export function polyline(points: readonly [number, number][], stroke: string, width = 2, dash?: string): string {
  const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
  const pts = points.map(([x, y]) => `${px(x)},${px(y)}`).join(' ');
  return `<polyline points="${pts}" fill="none" stroke="${stroke}" stroke-width="${width}" stroke-linejoin="round"${dashAttr}/>`;
}

/** Opens the document: white background and the default font for every text. */
export function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="${FONT_FAMILY}">\n<title>${escapeXml(title)}</title>\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>\n`
  );
}

export function svgClose(): string {
  return '</svg>\n';
}

/** Maps [d0, d1] onto [r0, r1]. A zero-width domain maps to the middle of the range. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/**
 * About `target` evenly spaced round ticks (1, 2, 2.5 or 5 × 10^k) covering [min, max]; the
 * domain should then be widened to the first and last tick.
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`Expected finite axis range but received [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  // Multiplying integers by the step (not accumulating) avoids drift like 0.30000000000000004.
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Tick label: integers as integers, otherwise the fewest decimals that tell ticks apart. */
export function formatTick(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  let decimals = 0;
  while (decimals < 6 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-9) decimals++;
  return v.toFixed(decimals);
}

export interface AxesSpec {
  /** Plot area in px. */
  left: number;
  top: number;
  width: number;
  height: number;
  xTicks: readonly number[];
  yTicks: readonly number[];
  x: (v: number) => number;
  y: (v: number) => number;
  xLabel: string;
  yLabel: string;
  /** Light horizontal and vertical grid lines at the ticks. */
  grid?: boolean;
  xTickFormat?: (v: number) => string;
  yTickFormat?: (v: number) => string;
}

/** Grid, axis lines, ticks with labels, and axis titles. */
export function axes(spec: AxesSpec): string {
  const { left, top, width, height } = spec;
  const bottom = top + height;
  const parts: string[] = [];
  const fx = spec.xTickFormat ?? ((v: number) => formatTick(v, spec.xTicks));
  const fy = spec.yTickFormat ?? ((v: number) => formatTick(v, spec.yTicks));
  if (spec.grid !== false) {
    for (const t of spec.yTicks) parts.push(line(left, spec.y(t), left + width, spec.y(t), COLOURS.grid));
    for (const t of spec.xTicks) parts.push(line(spec.x(t), top, spec.x(t), bottom, COLOURS.grid));
  }
  parts.push(`<rect x="${px(left)}" y="${px(top)}" width="${px(width)}" height="${px(height)}" fill="none" stroke="${COLOURS.axis}" stroke-width="1"/>`);
  for (const t of spec.xTicks) {
    const x = spec.x(t);
    parts.push(line(x, bottom, x, bottom + 5, COLOURS.axis));
    parts.push(text(x, bottom + 20, fx(t), { size: 12, anchor: 'middle' }));
  }
  for (const t of spec.yTicks) {
    const y = spec.y(t);
    parts.push(line(left - 5, y, left, y, COLOURS.axis));
    parts.push(text(left - 8, y + 4, fy(t), { size: 12, anchor: 'end' }));
  }
  parts.push(text(left + width / 2, bottom + 44, spec.xLabel, { size: 14, anchor: 'middle' }));
  const yLabelX = left - 52;
  parts.push(text(yLabelX, top + height / 2, spec.yLabel, { size: 14, anchor: 'middle', rotate: -90 }));
  return parts.join('\n');
}

export interface LegendEntry {
  label: string;
  colour: string;
  dash?: string;
  /** A marker instead of a line sample. */
  marker?: 'circle' | 'square';
  /** A square drawn as the plot draws its shape: this fill opacity, outlined in the full colour. */
  fillOpacity?: number;
}

/** A boxed legend whose top-left or top-right corner is at (x, y). */
export function legend(x: number, y: number, entries: readonly LegendEntry[], anchor: 'left' | 'right' = 'left'): string {
  const rowHeight = 20;
  // DejaVu Sans at 12 px averages about 7 px per character; generous so text never overflows.
  const width = 44 + Math.max(...entries.map((e) => e.label.length)) * 7.2;
  const height = entries.length * rowHeight + 10;
  const x0 = anchor === 'right' ? x - width : x;
  const parts = [`<rect x="${px(x0)}" y="${px(y)}" width="${px(width)}" height="${px(height)}" fill="#ffffff" fill-opacity="0.9" stroke="#bbbbbb" stroke-width="1" rx="3"/>`];
  entries.forEach((e, i) => {
    const cy = y + 15 + i * rowHeight;
    if (e.marker === 'circle') parts.push(`<circle cx="${px(x0 + 20)}" cy="${px(cy)}" r="5" fill="${e.colour}"/>`);
    else if (e.marker === 'square') {
      const translucent = e.fillOpacity === undefined ? '' : ` fill-opacity="${e.fillOpacity}" stroke="${e.colour}" stroke-width="1"`;
      parts.push(`<rect x="${px(x0 + 14)}" y="${px(cy - 6)}" width="12" height="12" fill="${e.colour}"${translucent}/>`);
    }
    else parts.push(line(x0 + 8, cy, x0 + 32, cy, e.colour, 2.5, e.dash));
    parts.push(text(x0 + 38, cy + 4, e.label, { size: 12 }));
  });
  return parts.join('\n');
}

/** A square plot of the unit interval on both axes (ROC, reliability): frame, scales and title. */
export function unitSquarePlot(title: string): {
  width: number; height: number; plotW: number; plotH: number; margin: { top: number; right: number; bottom: number; left: number };
  x: (v: number) => number; y: (v: number) => number; parts: string[];
} {
  const width = 540;
  const height = 540;
  const margin = { top: 48, right: 28, bottom: 70, left: 82 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x = linearScale(0, 1, margin.left, margin.left + plotW);
  const y = linearScale(0, 1, margin.top + plotH, margin.top);
  const parts = [svgOpen(width, height, title), text(width / 2, 28, title, { size: 17, anchor: 'middle', weight: 'bold' })];
  return { width, height, plotW, plotH, margin, x, y, parts };
}
