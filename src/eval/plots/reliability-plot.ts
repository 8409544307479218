// Reliability diagram (Guo et al. 2017): accuracy per confidence bin against the diagonal of
// perfect calibration; bars below the diagonal mean over-confidence.
import { CalibrationResult } from '../calibration';
import { axes, COLOURS, legend, line, px, svgClose, text, unitSquarePlot } from './svg-kit';

/** The gap bars and their legend swatch share it, so the legend shows the colour the plot draws. */
const GAP_OPACITY = 0.35;

const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

export function renderReliabilityDiagramSvg(result: CalibrationResult, options: { title?: string } = {}): string {
  if (result.bins.length === 0) throw new RangeError('Expected at least one reliability bin but received none');
  const title = options.title ?? 'Reliability diagram';
  const { margin, plotW, plotH, x, y, parts } = unitSquarePlot(title);
  parts.push(axes({ left: margin.left, top: margin.top, width: plotW, height: plotH, xTicks: UNIT_TICKS, yTicks: UNIT_TICKS, x, y, xLabel: 'Confidence (probability of predicted class)', yLabel: 'Accuracy' }));
  for (const bin of result.bins) {
    if (bin.accuracy === null || bin.meanConfidence === null) continue;
    const x0 = x(bin.lower);
    const w = x(bin.upper) - x0;
    // Gap between accuracy and mean confidence, then the accuracy bar itself.
    const gapTop = y(Math.max(bin.accuracy, bin.meanConfidence));
    const gapBottom = y(Math.min(bin.accuracy, bin.meanConfidence));
    parts.push(`<rect x="${px(x0)}" y="${px(y(bin.accuracy))}" width="${px(w)}" height="${px(y(0) - y(bin.accuracy))}" fill="${COLOURS.curve}" stroke="#ffffff" stroke-width="1"/>`);
    parts.push(`<rect x="${px(x0 + 1)}" y="${px(gapTop)}" width="${px(w - 2)}" height="${px(gapBottom - gapTop)}" fill="${COLOURS.validation}" fill-opacity="${GAP_OPACITY}" stroke="${COLOURS.validation}" stroke-width="1"/>`);
  }
  parts.push(line(x(0), y(0), x(1), y(1), COLOURS.reference, 1.5, '6 5'));
  parts.push(
    legend(margin.left + 10, margin.top + 10, [
      { label: 'Accuracy', colour: COLOURS.curve, marker: 'square' },
      { label: 'Gap to confidence', colour: COLOURS.validation, marker: 'square', fillOpacity: GAP_OPACITY },
      { label: 'Perfect calibration', colour: COLOURS.reference, dash: '6 5' },
    ]),
  );
  parts.push(text(margin.left + 18, margin.top + 100, `ECE = ${result.ece.toFixed(3)} (${result.bins.length} bins)`, { size: 13, weight: 'bold' }));
  parts.push(svgClose());
  return parts.join('\n');
}
