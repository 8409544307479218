// Prediction rows as CSV (spreadsheets, R, pandas) or JSON (scripts). Column names are stable:
// scripts depend on them. The `demo` and `warning` columns carry the synthetic-model notice into
// every file a demo model's output reaches; `ood_warnings` (codes, `;`-separated) and
// `ood_messages` (` | `-separated) carry the out-of-distribution warnings.
import type { PredictFilesResult, PredictionRow } from './batch-predict';
import { writeFileAtomic } from '../util/atomic-write';
import { csvCell } from '../util/csv';

export const CSV_COLUMNS = [
  'path', 'magnification', 'probability_malignant', 'label', 'threshold', 'model_id', 'demo', 'tta', 'gradcam', 'warning', 'error',
  'ood_warnings', 'ood_messages', 'gradcam_method', 'precision',
] as const;

export function predictionsToCsv(rows: readonly PredictionRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push([r.path, r.magnification, r.probabilityMalignant, r.label, r.threshold, r.modelId, r.demo, r.tta, r.gradcam, r.warning, r.error,
      r.warnings.map((w) => w.code).join(';'), r.warnings.map((w) => w.message).join(' | '), r.gradcamMethod, r.precision]
      .map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

export function predictionsToJson(result: PredictFilesResult): string {
  return JSON.stringify({ summary: result.summary, predictions: result.rows }, null, 2) + '\n';
}

/** Writes `.json` as JSON and anything else as CSV, atomically. */
export async function writePredictions(file: string, result: PredictFilesResult): Promise<void> {
  await writeFileAtomic(file, /\.json$/i.test(file) ? predictionsToJson(result) : predictionsToCsv(result.rows));
}
