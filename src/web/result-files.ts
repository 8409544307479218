// A kept result in the shapes people take away: the JSON API answer, a JSON download and a CSV
// row (file name, sha256, model id, threshold, probability, warnings, demo flag), each naming the
// result's permanent link.
import { DEMO_WARNING } from '../infer';
import { csvCell } from '../util/csv';
import type { PictureName, ResultRecord, StoredResult } from './result-store';

export const RESULT_CSV_COLUMNS = [
  'file_name', 'sha256', 'magnification', 'model_id', 'threshold', 'probability_malignant', 'label', 'warnings', 'demo', 'created_at', 'result_url',
  'precision',
] as const;

export const resultUrl = (id: string): string => `/results/${id}`;
export const pictureUrl = (id: string, name: PictureName): string => `/results/${id}/${name}.png`;

/** Everything known about one result, as the JSON download and the API give it. */
export function resultJson({ record, pictures }: StoredResult): Record<string, unknown> {
  const p = record.prediction;
  return {
    id: record.id,
    url: resultUrl(record.id),
    createdAt: new Date(record.createdAt).toISOString(),
    fileName: record.fileName,
    sha256: record.sha256,
    magnification: record.magnification,
    label: p.label,
    probability: p.probabilities.malignant,
    probabilities: p.probabilities,
    threshold: p.threshold,
    modelId: p.modelId,
    demo: p.demo,
    ...(p.demo ? { warning: DEMO_WARNING } : {}),
    warnings: record.warnings,
    ...(p.stain ? { stain: p.stain, ...(p.stainNote ? { stainNote: p.stainNote } : {}) } : {}),
    ...(p.precision ? { precision: p.precision } : {}),
    ...(p.precisionNote ? { precisionNote: p.precisionNote } : {}),
    ...(record.gradcam ? {
      gradcam: {
        ...record.gradcam,
        ...Object.fromEntries((Object.keys(pictures) as PictureName[]).map((name) => [`${name}Url`, pictureUrl(record.id, name)])),
      },
    } : {}),
    links: { json: `${resultUrl(record.id)}/result.json`, csv: `${resultUrl(record.id)}/result.csv` },
  };
}

export function resultsCsv(records: readonly ResultRecord[]): string {
  const lines = [RESULT_CSV_COLUMNS.join(',')];
  for (const r of records) {
    const p = r.prediction;
    lines.push([r.fileName ?? '', r.sha256, r.magnification, p.modelId, p.threshold, p.probabilities.malignant, p.label,
      [...r.warnings.map((w) => w.message), ...(p.precisionNote ? [p.precisionNote] : [])].join(' | '), p.demo, new Date(r.createdAt).toISOString(),
      resultUrl(r.id), p.precision?.computed ?? ''].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** The uploaded file's name without its extension, safe in a Content-Disposition header. */
export function downloadStem(record: ResultRecord): string {
  const stem = (record.fileName ?? 'histoscope-result').replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_').slice(0, 120);
  return stem || 'histoscope-result';
}
