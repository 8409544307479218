// Weighted F1 against HED perturbation strength, one line per normalisation: how fast a model's
// quality falls when the stain moves, and how much normalisation holds it up.
import type { StainShiftReport } from '../stain-shift-report';
import { conditionLabel } from '../stain-shift-report';
import { axes, legend, type LegendEntry, linearScale, niceTicks, polyline, px, svgClose, svgOpen, text } from './svg-kit';

// Okabe–Ito colours, one per condition role, the same dash patterns in every report.
const STYLE = {
  model: { colour: '#0072B2', dash: undefined },
  without: { colour: '#D55E00', dash: '7 4' },
  other: { colour: '#009E73', dash: '2 3' },
} as const;

export function renderStainShiftSvg(report: Pick<StainShiftReport, 'rows' | 'run'>, options: { metric?: 'weightedF1' | 'accuracy'; title?: string } = {}): string {
  if (report.rows.length === 0) throw new RangeError('Expected at least one stain-shift row but received none');
  const metric = options.metric ?? 'weightedF1';
  const label = metric === 'weightedF1' ? 'Weighted F1' : 'Accuracy';
  const width = 640;
  const height = 420;
  const title = options.title ?? `${label} under stain shift`;
  const margin = { top: 48, right: 24, bottom: 64, left: 80 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const strengths = [...new Set(report.rows.map((r) => r.strength))].sort((a, b) => a - b);
  const values = report.rows.map((r) => r[metric]);
  const xTicks = niceTicks(strengths[0], Math.max(strengths[strengths.length - 1], strengths[0] + 1e-3), 6);
  const yTicks = niceTicks(Math.max(0, Math.min(...values) - 0.05), Math.min(1, Math.max(...values) + 0.02), 6).filter((t) => t >= 0 && t <= 1);
  const x = linearScale(xTicks[0], xTicks[xTicks.length - 1], margin.left, margin.left + plotW);
  const y = linearScale(yTicks[0], yTicks[yTicks.length - 1], margin.top + plotH, margin.top);

  const parts = [svgOpen(width, height, title)];
  parts.push(text(width / 2, 28, title, { size: 17, anchor: 'middle', weight: 'bold' }));
  parts.push(axes({ left: margin.left, top: margin.top, width: plotW, height: plotH, xTicks, yTicks, x, y, xLabel: 'HED perturbation strength', yLabel: label }));
  const entries: LegendEntry[] = [];
  const seen = new Set<string>();
  for (const row of report.rows) {
    const key = `${row.role}/${row.normalisation}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const style = STYLE[row.role];
    const series = report.rows.filter((r) => r.role === row.role && r.normalisation === row.normalisation).sort((a, b) => a.strength - b.strength);
    const pts = series.map((r) => [x(r.strength), y(r[metric])] as [number, number]);
    parts.push(polyline(pts, style.colour, 2.2, style.dash));
    for (const [cx, cy] of pts) parts.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="3" fill="${style.colour}"/>`);
    entries.push({ label: conditionLabel(row), colour: style.colour, dash: style.dash });
  }
  parts.push(legend(margin.left + 10, margin.top + plotH - entries.length * 20 - 20, entries, 'left'));
  parts.push(svgClose());
  return parts.join('\n');
}
