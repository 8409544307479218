// The study's grid: batch size × images per class, per magnification. Every configuration is a
// normal run; the best per magnification is chosen by validation weighted F1 (never by test), and
// the table (markdown + JSON) is written beside the runs it was made from.
import * as path from 'node:path';
import { indexDataset, MAGNIFICATIONS, readManifest, type Manifest } from '../data';
import { formatSweepTable, type SweepResultRow } from '../eval';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { resolveTrainConfig, type TrainMagnification, type TrainOverrides } from './recipe';
import { createRunDir, runName } from './run-folder';
import { trainRun, type TrainRunOptions } from './train-run';

export interface SweepGrid {
  /** 'all' = every magnification present in the data, one model each. */
  magnifications: TrainMagnification[] | 'all';
  batchSizes: number[];
  /** Images per class per magnification (the study's 500 / 600). */
  perClass: number[];
}

export interface SweepRow extends SweepResultRow {
  run: string;
  /** Test AUC, null when the test split has one class. */
  testAuc: number | null;
}

export interface SweepResult {
  dir: string;
  status: 'finished' | 'interrupted';
  rows: SweepRow[];
  best: SweepRow[];
  markdown: string;
}

/** The manifest shared by many runs: indexed once, not once per run. */
export async function sharedManifest(base: TrainOverrides, progress?: TrainRunOptions['indexProgress']): Promise<Manifest> {
  if (base.manifest) return readManifest(path.resolve(base.manifest));
  return indexDataset(base.data, { progress });
}

/** Magnifications with images in the manifest; all four without one (a split file names its images). */
export function magnificationsIn(manifest: Manifest | undefined): TrainMagnification[] {
  if (!manifest) return [...MAGNIFICATIONS];
  return MAGNIFICATIONS.filter((m) => manifest.entries.some((e) => e.magnification === m));
}

/** Best row per magnification by validation weighted F1 (ties: the earlier run). */
export function bestPerMagnification(rows: readonly SweepRow[]): SweepRow[] {
  const best = new Map<string, SweepRow>();
  for (const r of rows) {
    const b = best.get(r.magnification);
    if (!b || r.valWeightedF1 > b.valWeightedF1) best.set(r.magnification, r);
  }
  return [...best.values()];
}

export async function runSweep(base: TrainOverrides, grid: SweepGrid, options: TrainRunOptions = {}): Promise<SweepResult> {
  const { config } = resolveTrainConfig(base);
  const manifest = base.split ? undefined : options.manifest ?? await sharedManifest(base, options.indexProgress);
  const mags = grid.magnifications === 'all' ? magnificationsIn(manifest) : grid.magnifications;
  const dir = createRunDir(config.runsDir, `sweep-${runName(config).slice(0, 15)}`);
  const rows: SweepRow[] = [];
  let status: SweepResult['status'] = 'finished';
  const write = async (): Promise<string> => {
    const best = bestPerMagnification(rows);
    const markdown = `# Sweep results\n\nAll configurations:\n\n${formatSweepTable(rows)}\nBest per magnification (by validation weighted F1):\n\n${formatSweepTable(best)}`;
    await writeFileAtomic(path.join(dir, 'sweep.md'), markdown);
    await writeJsonAtomic(path.join(dir, 'sweep.json'), { status, grid: { ...grid, magnifications: mags }, rows, best });
    return markdown;
  };
  outer: for (const magnification of mags) {
    for (const batchSize of grid.batchSizes) {
      for (const perClass of grid.perClass) {
        const r = await trainRun({ ...base, magnification, batchSize, perClass }, { ...options, manifest });
        if (r.status !== 'finished' || !r.metrics) {
          status = 'interrupted';
          break outer;
        }
        const m = r.metrics;
        rows.push({
          run: path.relative(dir, r.runDir), magnification, batchSize, imagesPerClass: perClass, bestEpoch: m.bestEpoch,
          valAccuracy: m.validation.accuracy, valWeightedF1: m.validation.weightedF1,
          testAccuracy: m.test.metrics.accuracy, testWeightedF1: m.test.metrics.weightedF1,
          benignRecall: m.test.metrics.specificity, malignantRecall: m.test.metrics.sensitivity, testAuc: m.test.roc.auc,
        });
        await write();
      }
    }
  }
  const markdown = await write();
  return { dir, status, rows, best: bestPerMagnification(rows), markdown };
}
