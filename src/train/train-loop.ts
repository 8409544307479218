// The epoch loop of one run: train on the (augmented) training split, measure the validation
// split, keep the best checkpoint by validation weighted F1, stop early, checkpoint every epoch.
// It stops between batches when the signal aborts; the last complete epoch stays resumable.
import { BatchLoader, type DecodedCache, deriveSeed, type ImageCache } from '../data';
import type { Model } from '../native';
import { PassAccumulator, argmax, weightedCrossEntropy } from './epoch-metrics';
import { EarlyStopper, type EarlyStoppingState } from './early-stopping';
import { completeDeviceImages } from './complete-device-images';
import { openDeviceImages, type SplitDeviceImages } from './open-device-images';
import { learningRateAt } from './learning-rate';
import { AbortedError, predictEntries } from './predict-entries';
import type { TrainConfig } from './recipe';
import type { RunData } from './run-data';
import { type EpochLogRecord, runFile, writeEpochLog } from './run-folder';
import { trainBatches } from './train-batches';
import type { TrainEventHandler } from './train-events';
import type { DistributedContext } from './distributed/distributed-context';

/** What last.pt carries besides weights and optimiser state: enough to resume exactly. */
export interface CheckpointMetadata {
  kind: 'last' | 'best';
  /** Epochs completed when written. */
  epoch: number;
  valWeightedF1: number;
  stopper: EarlyStoppingState;
  classWeights: number[];
  config: TrainConfig;
  /**
   * Every epoch's record up to `epoch`: last.pt is the source of truth and epochs.jsonl a view of
   * it, rebuilt on resume, so a crash between the two writes cannot lose an epoch. Absent in
   * checkpoints written before this field existed.
   */
  records?: EpochLogRecord[];
}

export interface LoopState {
  /** Epochs already completed (0 for a new run). */
  completed: number;
  stopper: EarlyStopper;
  records: EpochLogRecord[];
}

export interface LoopOptions {
  onEvent?: TrainEventHandler;
  signal?: AbortSignal;
  /** Stop (resumably) after this many epochs in this call, e.g. to split a long training. */
  maxEpochsThisSession?: number;
  cache: ImageCache;
  /** The persistent cache shared with other runs; undefined when off. */
  decodedCache?: DecodedCache;
  /** Data-parallel training: this rank trains on its share of each global batch; rank 0 writes. */
  dist?: DistributedContext;
}

export type LoopOutcome = 'finished' | 'interrupted';

export async function runEpochs(model: Model, runDir: string, config: TrainConfig, data: RunData, classWeights: number[],
  state: LoopState, o: LoopOptions): Promise<LoopOutcome> {
  const emit = o.onEvent ?? ((): void => undefined);
  const loader = new BatchLoader(data.parts.train, data.manifest.root, {
    batchSize: config.batchSize, size: config.imageSize, shuffleSeed: deriveSeed(config.seed, 'shuffle'),
    prefetch: config.prefetch, concurrency: config.decodeConcurrency, cache: o.cache, decodedCache: o.decodedCache,
    shard: o.dist ? { rank: o.dist.rank, worldSize: o.dist.worldSize } : undefined,
  });
  // A distributed rank keeps the whole training split (its share changes every epoch) and its own
  // share of the validation split (the same every epoch).
  const images = await openDeviceImages(model, data, config, emit, o.dist ? o.dist.shard(data.parts.val) : data.parts.val);
  try {
    return await epochs(model, runDir, config, data, classWeights, state, o, loader, images);
  } finally {
    images.train?.dispose();
    images.val?.dispose();
  }
}

async function epochs(model: Model, runDir: string, config: TrainConfig, data: RunData, classWeights: number[],
  state: LoopState, o: LoopOptions, loader: BatchLoader, images: SplitDeviceImages): Promise<LoopOutcome> {
  const emit = o.onEvent ?? ((): void => undefined);
  let session = 0;
  let learningRate: number | undefined;
  const dist = o.dist;
  // Every rank stops at the same batch: a rank leaving alone would leave the others in a collective.
  const interrupted = async (): Promise<boolean> => (dist ? dist.anyRank(o.signal?.aborted === true) : o.signal?.aborted === true);
  const writes = !dist || dist.isWriter;
  while (state.completed < config.maxEpochs && !state.stopper.stopped) {
    if ((await interrupted()) || (o.maxEpochsThisSession !== undefined && session >= o.maxEpochsThisSession)) return 'interrupted';
    const epoch = state.completed + 1;
    if (dist && session > 0 && images.train && !images.train.complete) {
      // This rank streamed only its share so far: fetch the rest once, then gather on the device.
      const added = await completeDeviceImages(images.train, data.parts.train, {
        root: data.manifest.root, imageSize: config.imageSize, batchSize: config.evalBatchSize, cache: o.cache, decodedCache: o.decodedCache,
        prefetch: config.prefetch, concurrency: config.decodeConcurrency,
      });
      emit({ event: 'device-images', split: 'train', images: data.parts.train.length, added });
    }
    const t0 = Date.now();
    emit({ event: 'epoch-start', epoch, maxEpochs: config.maxEpochs, batches: loader.length });
    const train = new PassAccumulator();
    let batchIndex = 0;
    let stainFallbacks = 0;
    // Epoch e uses shuffle order e-1 and an augmentation seed per (seed, e, image): a resumed run
    // replays them, and an image is augmented alike whichever rank or batch position it lands in.
    for await (const batch of trainBatches(loader, epoch - 1, images.train)) {
      if (await interrupted()) return 'interrupted';
      const rate = learningRateAt(config, epoch, batchIndex, loader.length);
      if (rate !== learningRate) await model.setLearningRate((learningRate = rate));
      const a = config.augmentation;
      const sampleSeeds = batch.entries.map((e) => deriveSeed(config.seed, `augment/${epoch}/${e.path}`));
      const r = dist && batch.entries.length === 0
        ? { loss: (await dist.group.stepWithoutImages(model)).loss, logits: [], stainFallbacks: 0 }
        : await batch.step(model, { classWeights, augment: { ...a, seed: deriveSeed(config.seed, `augment/${epoch}`), sampleSeeds } });
      stainFallbacks += r.stainFallbacks;
      const w = batch.labels.reduce((s, l) => s + classWeights[l], 0);
      train.addBatch(batch.labels, argmax(r.logits), r.loss, w);
      batchIndex++;
      emit({ event: 'batch', epoch, batch: batchIndex, batches: loader.length, loss: train.loss, accuracy: train.accuracy });
    }
    const trainSeconds = (Date.now() - t0) / 1000;
    const val = new PassAccumulator();
    try {
      // Distributed: each rank predicts its share and every rank gathers all (no signal: the
      // ranks must finish the pass together; Ctrl-C is honoured at the next batch).
      const mine = await predictEntries(model, dist ? dist.shard(data.parts.val) : data.parts.val, {
        root: data.manifest.root, imageSize: config.imageSize, batchSize: config.evalBatchSize, cache: o.cache, decodedCache: o.decodedCache,
        prefetch: config.prefetch, concurrency: config.decodeConcurrency, signal: dist ? undefined : o.signal, deviceImages: images.val,
        onBatch: (done, total) => emit({ event: 'validate', epoch, done, total }),
      });
      const preds = dist ? await dist.gatherShards(mine) : mine;
      const probs = preds.map((p) => p.probabilities);
      const labels = preds.map((p) => p.label);
      const ce = weightedCrossEntropy(probs, labels, classWeights);
      val.addBatch(labels, argmax(probs), ce.mean, ce.weight);
    } catch (err) {
      if (err instanceof AbortedError) return 'interrupted';
      throw err;
    }
    const t = (dist ? PassAccumulator.merged(await dist.allgatherJson(train.snapshot())) : train).result();
    const v = val.result();
    let { improved } = state.stopper.update(epoch, v.weightedF1);
    if (dist) {
      // Early stopping is decided once, on rank 0, and every rank follows it.
      const decided = await dist.broadcastJson({ improved, stopper: state.stopper.state });
      improved = decided.improved;
      state.stopper = new EarlyStopper(config.patience, decided.stopper);
    }
    const record: EpochLogRecord = {
      epoch, trainLoss: t.loss, trainAccuracy: t.accuracy, trainWeightedF1: t.weightedF1,
      valLoss: v.loss, valAccuracy: v.accuracy, valWeightedF1: v.weightedF1,
      learningRate: learningRate ?? config.learningRate, seconds: (Date.now() - t0) / 1000, imagesPerSecond: t.images / trainSeconds,
      improved, bestEpoch: state.stopper.bestEpoch ?? epoch,
      ...((config.stainNorm ?? 'none') === 'none' ? {} : { stainFallbacks }),
    };
    const records = [...state.records.filter((r) => r.epoch < epoch), record];
    const meta = (kind: 'last' | 'best'): CheckpointMetadata => ({ kind, epoch, valWeightedF1: v.weightedF1, stopper: state.stopper.state, classWeights, config, records });
    // best.pt before last.pt: if a crash falls between them, resume sees a best newer than last and keeps it.
    if (writes) {
      if (improved) await model.save(runFile(runDir, 'best'), { metadata: meta('best'), epoch });
      await model.save(runFile(runDir, 'last'), { metadata: meta('last'), epoch });
      await writeEpochLog(runDir, records);
    }
    state.records = records;
    state.completed = epoch;
    session++;
    emit({ event: 'epoch-end', record });
    if (state.stopper.stopped) emit({ event: 'early-stop', epoch, bestEpoch: state.stopper.bestEpoch!, patience: config.patience });
  }
  return 'finished';
}
