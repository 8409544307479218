// `histoscope evaluate RUN --stain-shift`: the run's best model on its test split under seeded HED
// perturbations of several strengths, with its own stain normalisation, without any, and
// optionally with the other normaliser (fitted as the run's would be), at the run's threshold.
// Writes stain-shift.json, stain-shift.md and plots/stain-shift.{svg,png} into the run folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageCache } from '../data';
import { formatStainShiftMarkdown, renderStainShiftSvg, writePlot, type StainShiftReport, type StainShiftRow } from '../eval';
import { NO_STAIN_TARGET, type StainMethod, type StainTarget } from '../native';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { expectInteger, expectNumber, invalid } from '../util/expect';
import { type EvaluateOptions, loadBest, predictOptions, readRunMetrics, reportOf } from './evaluate-run';
import { predictEntries } from './predict-entries';
import { loadRunData } from './run-data';
import { readRunConfig } from './run-folder';
import { fitStainTargetFor } from './run-stain-target';

/** 0 (the test split as it is) up to a strong shift; Tellez et al.'s "light" and "strong" jitter are 0.05 and 0.2. */
export const DEFAULT_STAIN_SHIFT_STRENGTHS = [0, 0.05, 0.1, 0.2, 0.3] as const;
export const STAIN_SHIFT_FILES = { json: 'stain-shift.json', markdown: 'stain-shift.md', plot: 'plots/stain-shift' } as const;

export interface StainShiftOptions extends EvaluateOptions {
  strengths?: readonly number[];
  /** Seed of the perturbations (default: the run's seed). */
  seed?: number;
  /** Also evaluate with the normaliser the model does not use (fitted as the run's own would be). */
  otherNormaliser?: boolean;
}

interface Condition {
  role: StainShiftRow['role'];
  normalisation: string;
  /** undefined: the model's own target. */
  stain?: StainTarget;
}

function checkStrengths(strengths: readonly number[]): number[] {
  if (!Array.isArray(strengths) || strengths.length === 0 || strengths.length > 20) throw invalid('1 to 20 strengths', 'stain-shift strengths', strengths);
  return [...new Set(strengths.map((s, i) => expectNumber(s, `stain-shift strengths[${i}]`, 0, 1)))].sort((a, b) => a - b);
}

export async function evaluateStainShift(runDir: string, options: StainShiftOptions = {}): Promise<StainShiftReport> {
  const config = readRunConfig(runDir);
  const strengths = checkStrengths(options.strengths ?? DEFAULT_STAIN_SHIFT_STRENGTHS);
  const seed = options.seed === undefined ? config.seed : expectInteger(options.seed, 'stain-shift seed', 0, 2 ** 32 - 1);
  // The run's own threshold, chosen on validation when it was evaluated, and by default the
  // precision that evaluation ran in, so the table sits beside the card's metrics like for like.
  const evaluated = readRunMetrics(runDir);
  const threshold = evaluated.threshold.threshold;
  const data = loadRunData(runDir, config);
  const { model } = await loadBest(runDir, options.device ?? config.device, options.precision ?? evaluated.precision);
  try {
    const own = model.info().stain;
    const conditions: Condition[] = [{ role: 'model', normalisation: own.method }];
    if (own.method !== 'none') conditions.push({ role: 'without', normalisation: 'none', stain: NO_STAIN_TARGET });
    if (options.otherNormaliser) {
      const other: StainMethod = own.method === 'macenko' ? 'reinhard' : 'macenko';
      const fitted = await fitStainTargetFor({ ...config, stainNorm: other, stainTarget: config.stainTarget ?? 'train' }, data, other);
      conditions.push({ role: 'other', normalisation: other, stain: fitted.target });
    }
    const cache = new ImageCache(config.cacheMegabytes * 2 ** 20);
    const base = predictOptions(config, data.manifest.root, cache, options.signal);
    const rows: StainShiftRow[] = [];
    for (const strength of strengths) {
      for (const c of conditions) {
        options.onEvent?.({ event: 'evaluate', part: 'test', images: data.parts.test.length });
        const preds = await predictEntries(model, data.parts.test, { ...base, stain: c.stain, perturb: { strength, seed } });
        const report = reportOf(preds, threshold);
        rows.push({
          role: c.role, normalisation: c.normalisation, strength, images: preds.length,
          accuracy: report.metrics.accuracy, weightedF1: report.metrics.weightedF1, auc: report.roc.auc,
          stainFallbacks: preds.filter((p) => p.stainFallback).length,
        });
      }
    }
    const written = await writePlot(renderStainShiftSvg({ rows, run: path.basename(path.resolve(runDir)) }, { title: `Weighted F1 under stain shift (${config.magnification})` }),
      path.join(runDir, STAIN_SHIFT_FILES.plot));
    const rel = (file: string): string => path.relative(runDir, file).split(path.sep).join('/');
    const report: StainShiftReport = {
      run: path.basename(path.resolve(runDir)), modelNormalisation: own.method, strengths, seed, threshold, rows,
      plots: { 'stain-shift.svg': rel(written.svg), 'stain-shift.png': rel(written.png) }, evaluatedAt: new Date().toISOString(),
      precision: model.info().precision,
    };
    await writeJsonAtomic(path.join(runDir, STAIN_SHIFT_FILES.json), report);
    await writeFileAtomic(path.join(runDir, STAIN_SHIFT_FILES.markdown), formatStainShiftMarkdown(report));
    return report;
  } finally {
    model.dispose();
  }
}

/** The run's stain-shift report, or null when `evaluate --stain-shift` has not run. */
export function readStainShift(runDir: string): StainShiftReport | null {
  const file = path.join(runDir, STAIN_SHIFT_FILES.json);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as StainShiftReport : null;
}
