// Installs a finished run's best model as models/<slot>/ (model.pt, card.json, plots/, gallery/), built in
// a temporary folder beside the target and swapped in by renames, so readers never see half a model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CARD_FILE, MODEL_CARD_SCHEMA, MODEL_FILE, type ModelCard } from '../eval/model-card';
import { writeJsonAtomic } from '../util/atomic-write';
import { sha256File } from '../util/sha256-file';
import { removeStaleTemps } from '../util/stale-temp-files';
import { readRunMetrics } from './evaluate-run';
import type { InitialWeights } from './initial-weights';
import { loadRunData, medianImageSize, partCounts } from './run-data';
import { readRunStainTarget } from './run-stain-target';
import { readStainShift } from './stain-shift';
import { readRunConfig, runFile } from './run-folder';
import type { TrainEventHandler } from './train-events';

function readInitialWeights(runDir: string): InitialWeights {
  try {
    return JSON.parse(fs.readFileSync(runFile(runDir, 'initialWeights'), 'utf8')) as InitialWeights;
  } catch {
    return { kind: 'none', file: null, sha256: null, label: 'unknown' };
  }
}

/** Builds the card of a finished run (without touching models/). */
export async function buildModelCard(runDir: string, modelFile: string, plots: Record<string, string>, gallery?: Record<string, string>): Promise<ModelCard> {
  const config = readRunConfig(runDir);
  const metrics = readRunMetrics(runDir);
  const data = loadRunData(runDir, config);
  const weights = readInitialWeights(runDir);
  const runId = path.basename(path.resolve(runDir));
  return {
    schema: MODEL_CARD_SCHEMA,
    id: `${config.magnification}-${runId}`,
    magnification: config.magnification,
    demo: data.synthetic,
    createdAt: new Date().toISOString(),
    classNames: ['benign', 'malignant'],
    threshold: metrics.threshold.threshold,
    recipe: { ...config },
    data: {
      source: config.data,
      synthetic: data.synthetic,
      manifestHash: data.manifest.hash,
      splitHash: data.splitHash,
      counts: { train: partCounts(data.parts.train), val: partCounts(data.parts.val), test: partCounts(data.parts.test) },
      imageSize: medianImageSize(data.parts.train),
    },
    weights: {
      initial: weights.label,
      initialSha256: weights.sha256,
      modelSha256: await sha256File(modelFile),
      bestEpoch: metrics.bestEpoch,
    },
    metrics: {
      test: metrics.test,
      validation: { accuracy: metrics.validation.accuracy, weightedF1: metrics.validation.weightedF1, loss: metrics.validation.loss },
      ...(metrics.faithfulness ? { faithfulness: metrics.faithfulness } : {}),
      ...(metrics.precision ? { precision: metrics.precision } : {}),
    },
    ...stainFields(runDir, config.stainNorm ?? 'none'),
    plots,
    ...(gallery && Object.keys(gallery).length ? { gallery } : {}),
    run: path.relative(process.cwd(), path.resolve(runDir)) || '.',
  };
}

/** The card's stain target and stain-shift report, from the run folder. */
function stainFields(runDir: string, method: string): Pick<ModelCard, 'stain' | 'stainShift'> {
  const out: Pick<ModelCard, 'stain' | 'stainShift'> = {};
  const stain = readRunStainTarget(runDir);
  if (method !== 'none' && !stain) throw new Error(`${path.resolve(runDir)} normalises stains (${method}) but has no stain-target.json; train it again.`);
  out.stain = stain ? { method: stain.target.method, values: stain.target.values, fittedTo: stain.fittedTo, images: stain.images } : { method: 'none', values: [], fittedTo: null, images: 0 };
  const shift = readStainShift(runDir);
  if (shift) out.stainShift = shift;
  return out;
}

/**
 * Removes the `.<slot>.new-…` / `.<slot>.old-…` folders of killed promotions; a killed swap can
 * have moved the slot aside without moving the new one in, so an old folder with no slot is put back.
 */
function recoverKilledPromotions(root: string, emit: TrainEventHandler): void {
  const paths = removeStaleTemps(root, {
    claim: (file) => {
      const slot = /^\.(.+)\.old-\d+-\d+$/.exec(path.basename(file))?.[1];
      if (!slot || fs.existsSync(path.join(root, slot))) return false;
      fs.renameSync(file, path.join(root, slot));
      emit({ event: 'warning', message: `Restored ${path.join(root, slot)} from ${path.basename(file)}, left by a promotion that was killed.` });
      return true;
    },
  });
  if (paths.length > 0) emit({ event: 'stale-temps-removed', paths });
}

/** Copies the listed files (paths relative to the run, e.g. gallery/overlays/x.jpg) to the same places under `to`; returns those present. */
async function copyListed(runDir: string, to: string, files: Record<string, string>): Promise<Record<string, string>> {
  const copied: Record<string, string> = {};
  for (const [name, rel] of Object.entries(files)) {
    const from = path.join(runDir, rel);
    if (path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..') || !fs.existsSync(from)) continue;
    await fs.promises.mkdir(path.dirname(path.join(to, rel)), { recursive: true });
    await fs.promises.copyFile(from, path.join(to, rel));
    copied[name] = rel;
  }
  return copied;
}

/** Copies best.pt, the plots, the Grad-CAM gallery and a new card into models/<slot>/, replacing what was there atomically. */
export async function promoteRun(runDir: string, modelsDir = 'models', options: { onEvent?: TrainEventHandler } = {}): Promise<ModelCard> {
  const config = readRunConfig(runDir);
  const metrics = readRunMetrics(runDir);
  const best = runFile(runDir, 'best');
  if (!fs.existsSync(best)) throw new Error(`${path.resolve(runDir)} has no best.pt; train or resume it first.`);
  const root = path.resolve(modelsDir);
  const target = path.join(root, config.magnification);
  recoverKilledPromotions(root, options.onEvent ?? ((): void => undefined));
  const nonce = `${process.pid}-${Date.now()}`;
  const tmp = path.join(root, `.${config.magnification}.new-${nonce}`);
  fs.mkdirSync(tmp, { recursive: true });
  try {
    await fs.promises.copyFile(best, path.join(tmp, MODEL_FILE));
    const plots: Record<string, string> = {};
    for (const [name, rel] of Object.entries({ ...metrics.plots, ...readStainShift(runDir)?.plots })) {
      const from = path.join(runDir, rel);
      if (!fs.existsSync(from)) continue;
      const to = path.join(tmp, 'plots', path.basename(rel));
      await fs.promises.mkdir(path.dirname(to), { recursive: true });
      await fs.promises.copyFile(from, to);
      plots[name] = `plots/${path.basename(rel)}`;
    }
    const gallery = await copyListed(runDir, tmp, metrics.gallery ?? {});
    const card = await buildModelCard(runDir, path.join(tmp, MODEL_FILE), plots, gallery);
    await writeJsonAtomic(path.join(tmp, CARD_FILE), card);
    // rename() cannot replace a non-empty folder: move the old one aside, move the new one in, drop the old.
    const old = path.join(root, `.${config.magnification}.old-${nonce}`);
    const hadOld = fs.existsSync(target);
    if (hadOld) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    if (hadOld) fs.rmSync(old, { recursive: true, force: true });
    return card;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
