// Runs a model over a list of images (no augmentation, eval mode) and returns one prediction
// record per image, in the input's order, ready for src/eval.
import { BatchLoader, classIndex, type DecodedCache, type ImageCache, type ManifestEntry } from '../data';
import type { ClassLabel, PredictionRecord } from '../eval';
import type { Model, PredictOptions as NativePredictOptions } from '../native';
import { deriveSeed } from '../util/prng';
import type { DeviceImages } from './device-images';

export interface PredictOptions {
  root: string;
  imageSize: number;
  batchSize: number;
  cache?: ImageCache;
  decodedCache?: DecodedCache;
  prefetch?: number;
  concurrency?: number;
  signal?: AbortSignal;
  /** The entries' images kept on the model's device: gathered there once complete, filled while streaming before. */
  deviceImages?: DeviceImages;
  onBatch?: (done: number, total: number) => void;
  /** Robustness evaluation: normalise to this target instead of the model's own (none = not at all). */
  stain?: NativePredictOptions['stain'];
  /** A seeded HED perturbation of every image before normalisation; each batch's seed derives from `seed` and its first image. */
  perturb?: { strength: number; seed: number };
}

export interface EntryPrediction extends PredictionRecord {
  path: string;
  /** Softmax probabilities [benign, malignant]. */
  probabilities: number[];
  /** The stain normaliser left this image unchanged (no tissue). */
  stainFallback: boolean;
}

export class AbortedError extends Error {
  override name = 'AbortedError';
}

export async function predictEntries(model: Model, entries: readonly ManifestEntry[], o: PredictOptions): Promise<EntryPrediction[]> {
  const loader = new BatchLoader(entries, o.root, {
    batchSize: o.batchSize, size: o.imageSize, cache: o.cache, decodedCache: o.decodedCache, prefetch: o.prefetch, concurrency: o.concurrency,
  });
  const out: EntryPrediction[] = [];
  const record = (entries: readonly ManifestEntry[], probs: number[][], fallback: boolean[]): void => {
    entries.forEach((e, i) => out.push({
      path: e.path,
      label: classIndex(e.cls) as ClassLabel,
      probMalignant: Math.min(1, Math.max(0, probs[i][1])),
      patient: e.patient,
      subtype: e.subtype,
      probabilities: probs[i],
      stainFallback: fallback[i],
    }));
    o.onBatch?.(out.length, entries.length === 0 ? 0 : total);
  };
  const total = entries.length;
  // The same images get the same perturbation whatever the normalisation compared.
  const options = (): NativePredictOptions => ({
    ...(o.stain ? { stain: o.stain } : {}),
    ...(o.perturb ? { perturbStrength: o.perturb.strength, perturbSeed: deriveSeed(o.perturb.seed, `${o.perturb.strength}/${out.length}`) } : {}),
  });
  const images = o.deviceImages;
  if (images?.complete) {
    for (const group of loader.groups(0)) {
      if (o.signal?.aborted) throw new AbortedError('Interrupted');
      const r = await model.predictStoredDetailed(images.store, images.rowsOf(group), options());
      record(group, r.probabilities, r.stainFallback);
    }
    return out;
  }
  for await (const batch of loader.epoch(0)) {
    if (o.signal?.aborted) throw new AbortedError('Interrupted');
    const [r] = await Promise.all([model.predictDetailed(batch, options()), images?.absorb(batch)]);
    record(batch.entries, r.probabilities, r.stainFallback);
  }
  return out;
}
