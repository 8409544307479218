// The batches of one training epoch, wherever their pixels are: gathered on the device from
// DeviceImages once it is complete, else streamed from the loader (and written into DeviceImages
// on the way). Both paths serve the same entries in the same order for a seed.
import { type BatchLoader, classIndex, type ManifestEntry } from '../data';
import type { Model, TrainStepOptions, TrainStepResult } from '../native';
import type { DeviceImages } from './device-images';

export interface TrainBatch {
  entries: ManifestEntry[];
  labels: number[];
  /** One optimiser step of `model` on this batch. */
  step(model: Model, options: TrainStepOptions): Promise<TrainStepResult>;
}

export async function* trainBatches(loader: BatchLoader, epochIndex: number, images?: DeviceImages): AsyncGenerator<TrainBatch> {
  if (images?.complete) {
    for (const entries of loader.groups(epochIndex)) {
      const labels = entries.map((e) => classIndex(e.cls));
      const rows = images.rowsOf(entries);
      yield { entries, labels, step: (model, options) => model.trainStepStored(images.store, rows, labels, options) };
    }
    return;
  }
  for await (const batch of loader.epoch(epochIndex)) {
    yield {
      entries: batch.entries,
      labels: batch.labels,
      step: async (model, options) => {
        const result = model.trainStep(batch, batch.labels, options);
        // Queued behind the step on the compute thread; both read the batch before it is dropped.
        const kept = images?.absorb(batch);
        const [r] = await Promise.all([result, kept]);
        return r;
      },
    };
  }
}
