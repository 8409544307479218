// A distributed rank streams only its share of the first epoch, so its store of the training
// split is incomplete afterwards; this decodes the images it lacks (from the shared decoded-image
// cache, which the other ranks have just filled) and writes them in, so that later epochs gather
// every batch on the device as a single process does.
import { BatchLoader, type ManifestEntry } from '../data';
import type { DeviceImages } from './device-images';
import type { PredictOptions } from './predict-entries';

/** Where and how to read the images: as predictEntries reads them. */
export type CompleteOptions = Pick<PredictOptions, 'root' | 'imageSize' | 'batchSize' | 'cache' | 'decodedCache' | 'prefetch' | 'concurrency'>;

/** Writes the missing images of `entries` into `images`; returns how many were missing. */
export async function completeDeviceImages(images: DeviceImages, entries: readonly ManifestEntry[], o: CompleteOptions): Promise<number> {
  const missing = images.missing(entries);
  if (missing.length === 0) return 0;
  const loader = new BatchLoader(missing, o.root, {
    batchSize: o.batchSize, size: o.imageSize, cache: o.cache, decodedCache: o.decodedCache, prefetch: o.prefetch, concurrency: o.concurrency,
  });
  for await (const batch of loader.epoch(0)) await images.absorb(batch);
  return missing.length;
}
