// Patient-wise k-fold cross-validation: one k-fold split made once and saved, one normal run per
// fold (test = that fold's patients, validation carved from the rest), then mean ± std of every
// test metric across folds.
import * as path from 'node:path';
import { makeSplit } from '../data';
import { formatMarkdownTable, formatMeanStd, summariseFolds, type CrossValidationSummary } from '../eval';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { expectInteger } from '../util/expect';
import { resolveTrainConfig, type TrainOverrides } from './recipe';
import { createRunDir, runName } from './run-folder';
import { sharedManifest } from './sweep';
import { trainRun, type TrainRunOptions } from './train-run';

export interface CrossValidationResult {
  dir: string;
  status: 'finished' | 'interrupted';
  runs: string[];
  summary: CrossValidationSummary | null;
  markdown: string;
}

/** The headline metrics shown in cv.md; cv.json holds every numeric metric. */
const HEADLINE: [string, string][] = [
  ['Accuracy', 'metrics.accuracy'], ['Weighted F1', 'metrics.weightedF1'], ['Sensitivity (malignant recall)', 'metrics.sensitivity'],
  ['Specificity (benign recall)', 'metrics.specificity'], ['ROC-AUC', 'roc.auc'], ['ECE', 'calibration.ece'],
  ['Patient-level recognition rate', 'patientLevel.recognitionRate'], ['Threshold (from validation)', 'threshold'],
];

export async function runCrossValidation(base: TrainOverrides, folds: number, options: TrainRunOptions = {}): Promise<CrossValidationResult> {
  expectInteger(folds, 'folds', 2);
  const { config } = resolveTrainConfig(base);
  const manifest = options.manifest ?? await sharedManifest(base, options.indexProgress);
  const dir = createRunDir(config.runsDir, `cv-${runName(config)}-k${folds}`);
  const split = makeSplit(manifest, {
    seed: config.seed, fractions: config.splitFractions, groupBy: config.groupBy, folds,
    capPerClass: config.perClass ?? undefined,
    magnifications: config.magnification === 'pooled' ? undefined : [config.magnification],
    manifestPath: 'manifest.json',
  });
  await writeJsonAtomic(path.join(dir, 'manifest.json'), manifest);
  await writeJsonAtomic(path.join(dir, 'split.json'), split);
  const runs: string[] = [];
  const reports: unknown[] = [];
  let status: CrossValidationResult['status'] = 'finished';
  for (let fold = 0; fold < folds; fold++) {
    const r = await trainRun({ ...base, manifest: path.join(dir, 'manifest.json'), split: path.join(dir, 'split.json'), fold },
      { ...options, manifest: undefined, nameSuffix: `fold${fold + 1}` });
    runs.push(path.relative(dir, r.runDir));
    if (r.status !== 'finished' || !r.metrics) {
      status = 'interrupted';
      break;
    }
    reports.push(r.metrics.test);
  }
  const summary = reports.length ? summariseFolds(reports) : null;
  const rows = summary ? HEADLINE.filter(([, key]) => summary.metrics[key]).map(([label, key]) => ({ label, value: formatMeanStd(summary.metrics[key]) })) : [];
  const markdown = `# ${folds}-fold patient-wise cross-validation, ${config.magnification}\n\n` +
    `Folds completed: ${reports.length} of ${folds}. Test metrics, mean ± sample standard deviation over folds.\n\n` +
    formatMarkdownTable([{ header: 'Metric', value: (r: { label: string }) => r.label }, { header: 'Test (mean ± std)', value: (r: { value: string }) => r.value, align: 'right' }], rows);
  await writeFileAtomic(path.join(dir, 'cv.md'), markdown);
  await writeJsonAtomic(path.join(dir, 'cv.json'), { status, folds, runs, summary });
  return { dir, status, runs, summary, markdown };
}
