// One training run from start to metrics: resolve the recipe, prepare the data, build the model,
// run the epochs, evaluate the best checkpoint. `resumeRun` continues an interrupted run from its
// last.pt with the early-stopping state it had; both return the run folder and its metrics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageCache, type Manifest, type Progress, sharedDecodedCache } from '../data';
import { Model } from '../native';
import { writeJsonAtomic } from '../util/atomic-write';
import { removeStaleTemps } from '../util/stale-temp-files';
import { trainingClassWeights } from './class-weights';
import { EarlyStopper } from './early-stopping';
import { evaluateRun, predictRunShare, type RunMetrics } from './evaluate-run';
import { resolveInitialWeights, type InitialWeights } from './initial-weights';
import { resolveTrainConfig, validateConfig, type TrainConfig, type TrainOverrides } from './recipe';
import { loadRunData, partCounts, prepareRunData, type RunData } from './run-data';
import { applyRunStainTarget } from './run-stain-target';
import { createRunDir, readEpochLog, readRunConfig, runFile, runName, writeEpochLog, writeRunConfig } from './run-folder';
import { type CheckpointMetadata, type LoopState, runEpochs } from './train-loop';
import type { TrainEventHandler } from './train-events';
import type { DistributedContext } from './distributed/distributed-context';

export interface TrainRunOptions {
  onEvent?: TrainEventHandler;
  /** Abort = Ctrl-C: the current batch finishes, the run stays resumable. */
  signal?: AbortSignal;
  /** Stop (resumably) after this many epochs in this call. */
  maxEpochsThisSession?: number;
  /** A manifest already indexed (shared by the runs of `--mag all`, sweeps, CV). */
  manifest?: Manifest;
  /** Appended to the run folder's name, e.g. `fold2`. */
  nameSuffix?: string;
  /** Index progress (the CLI passes a bar). */
  indexProgress?: (total: number) => Progress;
  /** Environment for the weights cache lookup (HISTOSCOPE_CACHE); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** A data-parallel world this process joined: rank 0 writes, every rank trains its share. */
  dist?: DistributedContext;
}

export interface TrainRunResult {
  runDir: string;
  status: 'finished' | 'interrupted';
  /** Epochs completed so far. */
  epochs: number;
  /** Present when finished. */
  metrics?: RunMetrics;
}

async function newModel(config: TrainConfig, weights: InitialWeights, emit: TrainEventHandler): Promise<Model> {
  const model = await Model.create({
    trainable: config.trainable, frozenBatchNorm: config.frozenBatchNorm, precision: config.precision, device: config.device,
    imageSize: config.imageSize, learningRate: config.learningRate, weightDecay: config.weightDecay, seed: config.seed,
  });
  if (weights.file) {
    try {
      const report = await model.loadWeights(weights.file);
      for (const notice of report.notices) emit({ event: 'warning', message: notice });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return model;
}

/** Runs `fn`; disposes the model if it throws (the caller never gets it then). */
async function withModel(model: Model, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Removes what killed writers left under `dir` (never a live writer's temp) and says so. */
function removeDebris(dir: string, depth: number, emit: TrainEventHandler): void {
  const paths = removeStaleTemps(dir, { depth });
  if (paths.length > 0) emit({ event: 'stale-temps-removed', paths });
}

async function trainAndEvaluate(model: Model, runDir: string, config: TrainConfig, data: RunData, state: LoopState,
  resumed: boolean, options: TrainRunOptions, dist?: DistributedContext): Promise<TrainRunResult> {
  const emit = options.onEvent ?? ((): void => undefined);
  if (dist) await dist.attach(model, config.syncBatchNorm === true);
  const classWeights = trainingClassWeights(config.classWeighting, data.parts.train);
  emit({
    event: 'run-start', runDir, resumed, startEpoch: state.completed, config, classWeights,
    counts: { train: partCounts(data.parts.train), val: partCounts(data.parts.val), test: partCounts(data.parts.test) },
  });
  let outcome;
  try {
    const cache = new ImageCache(config.cacheMegabytes * 2 ** 20);
    const decodedCache = sharedDecodedCache(config.decodeCache, { gigabytes: config.decodeCacheGigabytes });
    outcome = await runEpochs(model, runDir, config, data, classWeights, state, { ...options, cache, decodedCache, dist });
  } finally {
    model.dispose();
  }
  if (outcome === 'interrupted') {
    emit({ event: 'interrupted', runDir, epochsCompleted: state.completed });
    return { runDir, status: 'interrupted', epochs: state.completed };
  }
  if (dist) {
    // Every rank predicts its share of validation and test from best.pt, which rank 0 has written
    // by now; rank 0 gathers them and alone writes metrics.json, plots and the gallery.
    await dist.barrier();
    if (!dist.isWriter) {
      await predictRunShare(runDir, { device: config.device, dist });
      return { runDir, status: 'finished', epochs: state.completed };
    }
  }
  const metrics = await evaluateRun(runDir, { device: config.device, onEvent: options.onEvent, signal: options.signal, dist });
  emit({
    event: 'run-end', runDir, bestEpoch: metrics.bestEpoch, epochs: metrics.epochs, threshold: metrics.threshold.threshold,
    val: { accuracy: metrics.validation.accuracy, weightedF1: metrics.validation.weightedF1 },
    test: { accuracy: metrics.test.metrics.accuracy, weightedF1: metrics.test.metrics.weightedF1, auc: metrics.test.roc.auc },
  });
  return { runDir, status: 'finished', epochs: state.completed, metrics };
}

/** Trains one magnification (or pooled) with the study's recipe overridden by `overrides`. */
export async function trainRun(overrides: TrainOverrides, options: TrainRunOptions = {}): Promise<TrainRunResult> {
  const emit = options.onEvent ?? ((): void => undefined);
  const { config, warnings } = resolveTrainConfig(overrides);
  // Checked before the run folder exists: a missing folder or weights file leaves no empty run behind.
  if (!config.split && !config.manifest && !options.manifest && !fs.existsSync(config.data)) {
    throw new Error(`Dataset folder ${config.data} does not exist; pass --data with the folder holding the BreakHis images.`);
  }
  if (config.stainNorm !== 'none' && config.stainTarget !== 'train' && !fs.existsSync(config.stainTarget)) {
    throw new Error(`Expected an image file or 'train' for --stain-target but received ${config.stainTarget}, which does not exist.`);
  }
  const weights = await resolveInitialWeights(config.weights, options.env);
  for (const message of warnings) emit({ event: 'warning', message });
  const dist = options.dist;
  const rankConfig = dist ? { ...config, device: dist.device(config.device) } : config;
  const state: LoopState = { completed: 0, stopper: new EarlyStopper(config.patience), records: [] };
  if (dist && !dist.isWriter) {
    // Rank 0 makes the run folder and its data; the others read that (a filesystem every node sees).
    const runDir = await dist.broadcastJson<string>(undefined);
    const data = loadRunData(runDir, config);
    const model = await newModel(rankConfig, weights, emit);
    // Rank 0 fitted and wrote the run's stain target before it sent the folder: this reads it.
    await withModel(model, () => applyRunStainTarget(model, runDir, rankConfig, data, emit));
    return trainAndEvaluate(model, runDir, rankConfig, data, state, false, options, dist);
  }
  // Loaded before the run folder exists: a file that does not fit ResNet-50 leaves no empty run.
  const model = await newModel(rankConfig, weights, emit);
  let runDir: string | undefined;
  let data: RunData;
  try {
    // runs/<run>/plots/: the deepest folder a run writes to.
    removeDebris(config.runsDir, 2, emit);
    runDir = createRunDir(config.runsDir, runName(config, new Date(), options.nameSuffix));
    await writeRunConfig(runDir, config);
    await writeJsonAtomic(runFile(runDir, 'initialWeights'), weights);
    data = await prepareRunData(config, runDir, { manifest: options.manifest, progress: options.indexProgress });
    await applyRunStainTarget(model, runDir, rankConfig, data, emit);
    if (dist) await dist.broadcastJson(path.resolve(runDir));
  } catch (err) {
    model.dispose();
    // Nothing was trained yet: a stain reference without tissue (or bad data) leaves no run folder behind.
    if (runDir) fs.rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
  return trainAndEvaluate(model, runDir, rankConfig, data, state, false, options, dist);
}

/** Continues `runDir` from last.pt: epoch count, early-stopping state and best score as they were. */
export async function resumeRun(runDir: string, options: TrainRunOptions = {}): Promise<TrainRunResult> {
  const emit = options.onEvent ?? ((): void => undefined);
  const saved = validateConfig(readRunConfig(runDir));
  const dist = options.dist;
  const writes = !dist || dist.isWriter;
  const config = dist ? { ...saved, device: dist.device(saved.device) } : saved;
  if (writes) removeDebris(runDir, 1, emit);
  if (fs.existsSync(runFile(runDir, 'metrics'))) {
    throw new Error(`${runDir} has already finished (metrics.json exists); start a new run or evaluate it with \`histoscope evaluate\`.`);
  }
  const data = loadRunData(runDir, config);
  if (!fs.existsSync(runFile(runDir, 'last'))) {
    // Interrupted during its first epoch: start over in the same folder.
    const weights = await resolveInitialWeights(config.weights, options.env);
    const state: LoopState = { completed: 0, stopper: new EarlyStopper(config.patience), records: [] };
    const model = await newModel(config, weights, emit);
    await withModel(model, () => applyRunStainTarget(model, runDir, config, data, emit));
    return trainAndEvaluate(model, runDir, config, data, state, true, options, dist);
  }
  const last = await Model.load(runFile(runDir, 'last'), { device: config.device });
  const meta = last.metadata as CheckpointMetadata;
  let stopper = meta.stopper;
  if (fs.existsSync(runFile(runDir, 'best'))) {
    // A crash between writing best.pt and last.pt leaves a best newer than last: keep it, it was measured.
    const best = await Model.load(runFile(runDir, 'best'), { device: 'cpu' });
    best.model.dispose();
    const b = best.metadata as CheckpointMetadata;
    if (b.epoch > meta.epoch) stopper = { ...stopper, bestEpoch: b.epoch, bestScore: b.valWeightedF1, epochsWithoutImprovement: 0 };
  }
  const state: LoopState = {
    completed: last.epoch,
    stopper: new EarlyStopper(config.patience, stopper),
    records: meta.records ?? readEpochLog(runDir).filter((r) => r.epoch <= last.epoch),
  };
  // epochs.jsonl is rewritten before any training: a crash after last.pt was saved and before the
  // log was may have left it an epoch behind (or, if last.pt is older, ahead).
  if (writes) await writeEpochLog(runDir, state.records);
  return trainAndEvaluate(last.model, runDir, config, data, state, true, options, dist);
}
