// Runs a model over a list of images (no augmentation, eval mode) and returns one prediction
// record per image, in the input's order, ready for src/eval.
import { BatchLoader, classIndex, type DecodedCache, type ImageCache, type ManifestEntry } from '../data';
import type { ClassLabel, PredictionRecord } from '../eval';
import type { Model } from '../native';
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
}

export interface EntryPrediction extends PredictionRecord {
  path: string;
  /** Softmax probabilities [benign, malignant]. */
  probabilities: number[];
}

export class AbortedError extends Error {
  override name = 'AbortedError';
}

export async function predictEntries(model: Model, entries: readonly ManifestEntry[], o: PredictOptions): Promise<EntryPrediction[]> {
  const loader = new BatchLoader(entries, o.root, {
    batchSize: o.batchSize, size: o.imageSize, cache: o.cache, decodedCache: o.decodedCache, prefetch: o.prefetch, concurrency: o.concurrency,
  });
  const out: EntryPrediction[] = [];
  const record = (entries: readonly ManifestEntry[], probs: number[][]): void => {
    entries.forEach((e, i) => out.push({
      path: e.path,
      label: classIndex(e.cls) as ClassLabel,
      probMalignant: Math.min(1, Math.max(0, probs[i][1])),
      patient: e.patient,
      subtype: e.subtype,
      probabilities: probs[i],
    }));
    o.onBatch?.(out.length, entries.length === 0 ? 0 : total);
  };
  const total = entries.length;
  const images = o.deviceImages;
  if (images?.complete) {
    for (const group of loader.groups(0)) {
      if (o.signal?.aborted) throw new AbortedError('Interrupted');
      record(group, await model.predictStored(images.store, images.rowsOf(group)));
    }
    return out;
  }
  for await (const batch of loader.epoch(0)) {
    if (o.signal?.aborted) throw new AbortedError('Interrupted');
    const [probs] = await Promise.all([model.predict(batch), images?.absorb(batch)]);
    record(batch.entries, probs);
  }
  return out;
}
