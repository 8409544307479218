// Decides, once per run, whether the training and validation splits' decoded images live on the
// model's device, and reserves them there when they fit the budget. A failure to reserve (the
// device filled up meanwhile) is a warning and the run streams instead: never a failed run.
import type { ManifestEntry } from '../data';
import type { Model } from '../native';
import { DeviceImages } from './device-images';
import { deviceImageBudget } from './device-image-budget';
import type { TrainConfig } from './recipe';
import type { RunData } from './run-data';
import type { TrainEventHandler } from './train-events';

export interface SplitDeviceImages {
  train?: DeviceImages;
  val?: DeviceImages;
}

const MB = 2 ** 20;

/**
 * `val` defaults to the whole validation split; a distributed rank passes its own share (the same
 * every epoch), while it keeps the whole training split (its share changes every epoch).
 */
export async function openDeviceImages(model: Model, data: RunData, config: TrainConfig, emit: TrainEventHandler,
  val: readonly ManifestEntry[] = data.parts.val): Promise<SplitDeviceImages> {
  if (config.deviceImages === 'off') return {};
  const { train } = data.parts;
  const needed = DeviceImages.bytesFor(train.length + val.length, config.imageSize);
  const device = model.info().device;
  const budget = await deviceImageBudget(device, config.deviceImageBudgetMegabytes);
  if (needed > budget.bytes) {
    emit({ event: 'warning', message: `The decoded training and validation images (${Math.ceil(needed / MB)} MB) exceed the device budget ` +
      `(${Math.floor(budget.bytes / MB)} MB, ${budget.source}): they are read from the caches every epoch. Raise it with --device-image-budget.` });
    return {};
  }
  const opened: SplitDeviceImages = {};
  try {
    if (train.length > 0) opened.train = await DeviceImages.create(train, config.imageSize, device);
    if (val.length > 0) opened.val = await DeviceImages.create(val, config.imageSize, device);
    return opened;
  } catch (err) {
    opened.train?.dispose();
    emit({ event: 'warning', message: `Keeping the decoded images on ${device} failed (${(err as Error).message.split('\n')[0]}); they are read from the caches every epoch.` });
    return {};
  }
}
