// The plots of a run, SVG + PNG under plots/: curves from epochs.jsonl, and the test evaluation's
// confusion matrix, ROC curve and reliability diagram. Returns paths relative to `dir`.
import * as path from 'node:path';
import {
  renderAccuracyCurvesSvg, renderConfusionMatrixSvg, renderLossCurvesSvg, renderReliabilityDiagramSvg, renderRocCurveSvg,
  writePlot, type EvaluationReport,
} from '../eval';
import type { EpochLogRecord } from './run-folder';

/** Plot name → file relative to `dir` (both formats: `<name>.svg` and `<name>.png` keys). */
export type PlotFiles = Record<string, string>;

export async function writeRunPlots(dir: string, epochs: readonly EpochLogRecord[], bestEpoch: number | null, test: EvaluationReport, title = ''): Promise<PlotFiles> {
  const plotsDir = path.join(dir, 'plots');
  const svgs: [string, string][] = [];
  if (epochs.length) {
    const best = bestEpoch !== null && epochs.some((e) => e.epoch === bestEpoch) ? bestEpoch : undefined;
    svgs.push(['accuracy', renderAccuracyCurvesSvg(epochs, best)], ['loss', renderLossCurvesSvg(epochs, best)]);
  }
  const t = title ? ` (${title})` : '';
  svgs.push(['confusion-matrix', renderConfusionMatrixSvg(test.confusionMatrix, { title: `Confusion matrix, test${t}` })]);
  if (test.roc.points.length >= 2) {
    const m = test.metrics;
    svgs.push(['roc', renderRocCurveSvg(test.roc, {
      title: `ROC curve, test${t}`,
      operatingPoint: { fpr: 1 - m.specificity, tpr: m.sensitivity, threshold: test.threshold },
    })]);
  }
  svgs.push(['reliability', renderReliabilityDiagramSvg(test.calibration, { title: `Reliability, test${t}` })]);
  const files: PlotFiles = {};
  for (const [name, svg] of svgs) {
    const written = await writePlot(svg, path.join(plotsDir, name));
    files[`${name}.svg`] = path.relative(dir, written.svg).split(path.sep).join('/');
    files[`${name}.png`] = path.relative(dir, written.png).split(path.sep).join('/');
  }
  return files;
}
