// Train vs validation curves per epoch (accuracy, loss or weighted F1), with the best epoch
// marked: the figure that shows whether the chosen checkpoint sits before over-fitting.
import { axes, COLOURS, legend, LegendEntry, line, linearScale, niceTicks, polyline, px, svgClose, svgOpen, text } from './svg-kit';

/** One epoch's metrics, as the training loop writes them to epochs.jsonl. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  trainWeightedF1: number;
  valLoss: number;
  valAccuracy: number;
  valWeightedF1: number;
}

export type CurveQuantity = 'accuracy' | 'loss' | 'weightedF1';

export interface TrainingCurveOptions {
  quantity: CurveQuantity;
  /** Epoch whose checkpoint was kept; marked by a vertical line. */
  bestEpoch?: number;
  title?: string;
  width?: number;
  height?: number;
}

const QUANTITY = {
  accuracy: { label: 'Accuracy', train: 'trainAccuracy', val: 'valAccuracy', bounded: true },
  weightedF1: { label: 'Weighted F1', train: 'trainWeightedF1', val: 'valWeightedF1', bounded: true },
  loss: { label: 'Loss', train: 'trainLoss', val: 'valLoss', bounded: false },
} as const;

function validateEpochs(epochs: readonly EpochRecord[], quantity: CurveQuantity, bestEpoch: number | undefined): void {
  if (epochs.length === 0) throw new RangeError('Expected at least one epoch record but received none');
  const q = QUANTITY[quantity];
  if (q === undefined) throw new RangeError(`Expected accuracy, loss or weightedF1 for quantity but received ${String(quantity)}`);
  epochs.forEach((e, i) => {
    for (const key of ['epoch', q.train, q.val] as const) {
      if (typeof e[key] !== 'number' || !Number.isFinite(e[key])) {
        throw new RangeError(`Expected finite number for epochs[${i}].${key} but received ${String(e[key])} of type ${typeof e[key]}`);
      }
    }
  });
  if (bestEpoch !== undefined && !epochs.some((e) => e.epoch === bestEpoch)) {
    throw new RangeError(`Expected bestEpoch to be one of the plotted epochs but received ${String(bestEpoch)}`);
  }
}

/** Whole-number ticks for epochs (fractional epochs mean nothing). */
function epochTicks(min: number, max: number): number[] {
  const ticks = niceTicks(min, max, 8).filter((t) => Number.isInteger(t));
  if (ticks.length >= 2) return ticks;
  const lo = Math.floor(min);
  return [lo, Math.max(lo + 1, Math.ceil(max))];
}

/** Train (blue) and validation (orange, dashed) curves of one quantity, as an SVG string. */
export function renderTrainingCurveSvg(epochs: readonly EpochRecord[], options: TrainingCurveOptions): string {
  const { quantity, bestEpoch } = options;
  validateEpochs(epochs, quantity, bestEpoch);
  const q = QUANTITY[quantity];
  const width = options.width ?? 640;
  const height = options.height ?? 420;
  const title = options.title ?? `Training and validation ${q.label.toLowerCase()}`;
  const margin = { top: 48, right: 24, bottom: 64, left: 80 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const xs = sorted.map((e) => e.epoch);
  const values = sorted.flatMap((e) => [e[q.train], e[q.val]]);
  const xTicks = epochTicks(Math.min(...xs), Math.max(...xs));
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (q.bounded) {
    lo = Math.max(0, lo);
    hi = Math.min(1, hi);
  } else {
    lo = Math.min(0, lo); // losses read best against zero
  }
  const yTicks = niceTicks(lo, hi, 6).filter((t) => !q.bounded || (t >= 0 && t <= 1));
  const x = linearScale(xTicks[0], xTicks[xTicks.length - 1], margin.left, margin.left + plotW);
  const y = linearScale(Math.min(yTicks[0], lo), Math.max(yTicks[yTicks.length - 1], hi), margin.top + plotH, margin.top);

  const parts = [svgOpen(width, height, title)];
  parts.push(text(width / 2, 28, title, { size: 17, anchor: 'middle', weight: 'bold' }));
  parts.push(axes({ left: margin.left, top: margin.top, width: plotW, height: plotH, xTicks, yTicks, x, y, xLabel: 'Epoch', yLabel: q.label }));

  const entries: LegendEntry[] = [
    { label: 'Train', colour: COLOURS.train },
    { label: 'Validation', colour: COLOURS.validation, dash: '7 4' },
  ];
  if (bestEpoch !== undefined) {
    parts.push(line(x(bestEpoch), margin.top, x(bestEpoch), margin.top + plotH, COLOURS.best, 1.5, '3 3'));
    entries.push({ label: `Best epoch (${bestEpoch})`, colour: COLOURS.best, dash: '3 3' });
  }
  const series = (key: 'train' | 'val', colour: string, dash?: string): void => {
    const pts = sorted.map((e) => [x(e.epoch), y(e[q[key]])] as [number, number]);
    parts.push(polyline(pts, colour, 2.2, dash));
    // Markers only while they stay distinguishable.
    if (sorted.length <= 40) for (const [cx, cy] of pts) parts.push(`<circle cx="${px(cx)}" cy="${px(cy)}" r="2.8" fill="${colour}"/>`);
  };
  series('train', COLOURS.train);
  series('val', COLOURS.validation, '7 4');
  if (bestEpoch !== undefined) {
    const best = sorted.find((e) => e.epoch === bestEpoch)!;
    parts.push(`<circle cx="${px(x(bestEpoch))}" cy="${px(y(best[q.val]))}" r="6" fill="none" stroke="${COLOURS.best}" stroke-width="2.5"/>`);
  }
  // Accuracy curves rise, loss falls: put the legend where the curves usually are not.
  const legendHeight = entries.length * 20 + 10;
  const legendY = quantity === 'loss' ? margin.top + 10 : margin.top + plotH - legendHeight - 10;
  parts.push(legend(margin.left + plotW - 10, legendY, entries, 'right'));
  parts.push(svgClose());
  return parts.join('\n');
}

export function renderAccuracyCurvesSvg(epochs: readonly EpochRecord[], bestEpoch?: number): string {
  return renderTrainingCurveSvg(epochs, { quantity: 'accuracy', bestEpoch });
}

export function renderLossCurvesSvg(epochs: readonly EpochRecord[], bestEpoch?: number): string {
  return renderTrainingCurveSvg(epochs, { quantity: 'loss', bestEpoch });
}
