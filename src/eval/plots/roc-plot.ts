// ROC curve with its AUC in the legend and the chance diagonal for reference.
import { RocPoint } from '../roc';
import { axes, COLOURS, legend, LegendEntry, line, polyline, px, svgClose, unitSquarePlot } from './svg-kit';

export interface RocPlotOptions {
  title?: string;
  /** Marks the point where the model operates at its decision threshold. */
  operatingPoint?: { fpr: number; tpr: number; threshold: number };
}

const UNIT_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];

export function renderRocCurveSvg(roc: { points: readonly RocPoint[]; auc: number | null }, options: RocPlotOptions = {}): string {
  if (roc.points.length < 2) throw new RangeError(`Expected at least two ROC points but received ${roc.points.length}`);
  const title = options.title ?? 'ROC curve';
  const { margin, plotW, plotH, x, y, parts } = unitSquarePlot(title);
  parts.push(
    axes({
      left: margin.left,
      top: margin.top,
      width: plotW,
      height: plotH,
      xTicks: UNIT_TICKS,
      yTicks: UNIT_TICKS,
      x,
      y,
      xLabel: 'False positive rate (1 − specificity)',
      yLabel: 'True positive rate (sensitivity)',
    }),
  );
  parts.push(line(x(0), y(0), x(1), y(1), COLOURS.reference, 1.5, '6 5'));
  parts.push(polyline(roc.points.map((p) => [x(p.fpr), y(p.tpr)]), COLOURS.curve, 2.5));
  const entries: LegendEntry[] = [
    { label: roc.auc === null ? 'ROC' : `ROC (AUC = ${roc.auc.toFixed(3)})`, colour: COLOURS.curve },
    { label: 'Chance (AUC = 0.500)', colour: COLOURS.reference, dash: '6 5' },
  ];
  const op = options.operatingPoint;
  if (op) {
    parts.push(`<circle cx="${px(x(op.fpr))}" cy="${px(y(op.tpr))}" r="6" fill="${COLOURS.validation}" stroke="#ffffff" stroke-width="1.5"/>`);
    entries.push({ label: `Threshold ${op.threshold.toFixed(3)}`, colour: COLOURS.validation, marker: 'circle' });
  }
  parts.push(legend(margin.left + plotW - 10, margin.top + plotH - (entries.length * 20 + 10) - 10, entries, 'right'));
  parts.push(svgClose());
  return parts.join('\n');
}
