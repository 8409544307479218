// A run's stain target: fitted once, when training starts, to a reference image or to a seeded
// sample of the training split; kept in the run folder (stain-target.json) and set on the model,
// whose checkpoints carry it from then on, so evaluation, promotion and inference normalise alike.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage, deriveSeed, mapWithConcurrency, mulberry32 } from '../data';
import { fitStainTarget, type Model, type StainMethod, type StainTarget } from '../native';
import { writeJsonAtomic } from '../util/atomic-write';
import { shuffle } from '../util/prng';
import type { TrainConfig } from './recipe';
import type { RunData } from './run-data';
import type { TrainEventHandler } from './train-events';

export const STAIN_TARGET_FILE = 'stain-target.json';
/** Training images the 'train' target is fitted over (all their pixels pooled). */
export const STAIN_FIT_IMAGES = 32;

export interface RunStainTarget {
  target: StainTarget;
  /** 'train' or the reference image's path. */
  fittedTo: string;
  /** Images whose pixels were pooled. */
  images: number;
  fittedAt: string;
}

/** The files the target is fitted to: the reference image, or a seeded sample of the training split. */
function referenceFiles(config: Pick<TrainConfig, 'stainTarget' | 'seed'>, data: RunData): string[] {
  if (config.stainTarget !== 'train') {
    if (!fs.existsSync(config.stainTarget)) {
      throw new Error(`Expected an image file or 'train' for --stain-target but received ${config.stainTarget}, which does not exist.`);
    }
    return [config.stainTarget];
  }
  const sample = shuffle(mulberry32(deriveSeed(config.seed, 'stain-target')), data.parts.train).slice(0, STAIN_FIT_IMAGES);
  if (sample.length === 0) throw new Error('The training split is empty: there is nothing to fit --stain-target train to.');
  return sample.map((e) => path.join(data.manifest.root, e.path));
}

/** Fits `method` to what the config names (its reference image, or a sample of the training split). */
export async function fitStainTargetFor(config: TrainConfig, data: RunData, method: StainMethod): Promise<RunStainTarget> {
  const files = referenceFiles(config, data);
  const size = config.imageSize;
  // Squashed to the model's side as training squashes its inputs: the target sees what the model sees.
  const decoded = await mapWithConcurrency(files, config.decodeConcurrency, (file) => decodeImage(file, { size, fit: 'fill', name: `The stain reference ${file}` }));
  const pixels = new Uint8Array(files.length * size * size * 3);
  decoded.forEach((d, i) => pixels.set(d.data, i * size * size * 3));
  try {
    const target = await fitStainTarget(method, { data: pixels, shape: [files.length, size, size, 3] }, { device: config.device });
    return { target, fittedTo: config.stainTarget, images: files.length, fittedAt: new Date().toISOString() };
  } catch (err) {
    throw new Error(`Expected stained tissue in the --stain-target images (${config.stainTarget}) but the ${method} fit failed: ${(err as Error).message}`, { cause: err });
  }
}

/** The run's stain target as written when it started; null when it does not normalise or has none yet. */
export function readRunStainTarget(runDir: string): RunStainTarget | null {
  const file = path.join(runDir, STAIN_TARGET_FILE);
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) as RunStainTarget : null;
}

/** Reads the run's stain target, or fits and writes it; null when the run does not normalise. */
export async function runStainTarget(runDir: string, config: TrainConfig, data: RunData): Promise<RunStainTarget | null> {
  if ((config.stainNorm ?? 'none') === 'none') return null;
  // A run restarted in its first epoch keeps the target it fitted: the same inputs as before.
  const existing = readRunStainTarget(runDir);
  if (existing) return existing;
  const file = path.join(runDir, STAIN_TARGET_FILE);
  const fitted = await fitStainTargetFor(config, data, config.stainNorm);
  await writeJsonAtomic(file, fitted);
  return fitted;
}

/** Sets the run's stain target (fitted if needed) on a new model. */
export async function applyRunStainTarget(model: Model, runDir: string, config: TrainConfig, data: RunData, emit: TrainEventHandler): Promise<void> {
  const stain = await runStainTarget(runDir, config, data);
  if (!stain) return;
  await model.setStainTarget(stain.target);
  emit({ event: 'stain-target', method: stain.target.method, fittedTo: stain.fittedTo, images: stain.images });
}
