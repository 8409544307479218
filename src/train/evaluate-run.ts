// Evaluation of a run's best checkpoint: the decision threshold is chosen on validation (never on
// test), then the test split is scored at it. `evaluateRun` writes metrics.json and the plots;
// `evaluateExternal` scores another split or folder into evaluations/<time>/ instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ImageCache, indexDataset, loadSplit, type ManifestEntry, sharedDecodedCache } from '../data';
import { evaluatePredictions, type FaithfulnessSummary, selectThreshold, type EvaluationReport, type ThresholdSelection } from '../eval';
import { Model, type Precision } from '../native';
import { writeJsonAtomic } from '../util/atomic-write';
import { trainingClassWeights } from './class-weights';
import { weightedCrossEntropy } from './epoch-metrics';
import { faithfulnessSample } from './faithfulness-sample';
import { predictEntries, type EntryPrediction, type PredictOptions } from './predict-entries';
import type { TrainConfig } from './recipe';
import { loadRunData, type RunData } from './run-data';
import { createRunDir, readEpochLog, readRunConfig, runFile, runName } from './run-folder';
import { type GalleryFiles, writeRunGallery } from './run-gallery';
import { type PlotFiles, writeRunPlots } from './run-plots';
import type { TrainEventHandler } from './train-events';
import type { DistributedContext } from './distributed/distributed-context';

export interface RunMetrics {
  run: string;
  magnification: TrainConfig['magnification'];
  bestEpoch: number;
  epochs: number;
  stoppedEarly: boolean;
  threshold: ThresholdSelection;
  validation: { accuracy: number; weightedF1: number; loss: number; report: EvaluationReport };
  test: EvaluationReport;
  plots: PlotFiles;
  /** The Grad-CAM gallery's files (gallery/…); absent when the run has galleries off. */
  gallery?: GalleryFiles;
  evaluatedAt: string;
  /** The precision best.pt ran in for these numbers (absent in files from before it: the recipe's). */
  precision?: Precision;
  /** Grad-CAM / Grad-CAM++ deletion and insertion AUCs on a seeded test sample, when asked for. */
  faithfulness?: FaithfulnessSummary;
}

export interface EvaluateOptions {
  device?: string;
  /** Run best.pt in this precision (default: the one it was trained in); metrics.json records it. */
  precision?: Precision;
  /** Test images for the faithfulness score (0 or absent: not computed). */
  faithfulness?: number;
  /** false: write no Grad-CAM gallery this time (`evaluate --no-gallery`), whatever the run's config says. */
  gallery?: boolean;
  onEvent?: TrainEventHandler;
  signal?: AbortSignal;
}

/** How the run's splits are predicted: by this process alone, or in shards by every rank of a world. */
export interface SplitPredictor {
  dist?: DistributedContext;
}

export interface ExternalSource {
  /** Score the test part of this split file (filtered to the run's magnification). */
  split?: string;
  /** Score every image of this folder at the run's magnification. */
  data?: string;
}

export interface ExternalEvaluation {
  run: string;
  source: string;
  threshold: number;
  test: EvaluationReport;
  plots: PlotFiles;
  gallery?: GalleryFiles;
  evaluatedAt: string;
  precision: Precision;
}

export interface BestCheckpoint {
  model: Model;
  epoch: number;
}

export async function loadBest(runDir: string, device: string | undefined, precision?: Precision): Promise<BestCheckpoint> {
  const file = runFile(runDir, 'best');
  if (!fs.existsSync(file)) throw new Error(`${path.resolve(runDir)} has no best checkpoint yet (best.pt); train or resume it first.`);
  // Folded for inference, as the registry serves it: the card's numbers come from the served computation.
  const { model, metadata } = await Model.load(file, { ...(device ? { device } : {}), ...(precision ? { precision } : {}), inferenceOnly: true });
  return { model, epoch: (metadata as { epoch?: number }).epoch ?? 0 };
}

export function predictOptions(config: TrainConfig, root: string, cache: ImageCache, signal?: AbortSignal): Parameters<typeof predictEntries>[2] {
  const decodedCache = sharedDecodedCache(config.decodeCache, { gigabytes: config.decodeCacheGigabytes });
  return { root, imageSize: config.imageSize, batchSize: config.evalBatchSize, cache, decodedCache, prefetch: config.prefetch, concurrency: config.decodeConcurrency, signal };
}

/**
 * The Grad-CAM gallery of `preds` in `dir`/gallery/, when the run's config and the caller want one.
 * A gallery that cannot be drawn (say an image went missing since prediction) is a warning: the
 * metrics it would sit beside are still written.
 */
async function galleryOf(model: Model, dir: string, preds: EntryPrediction[], config: TrainConfig, root: string, threshold: number,
  options: EvaluateOptions): Promise<GalleryFiles | undefined> {
  if (!config.gallery || options.gallery === false) return undefined;
  const started = performance.now();
  try {
    const files = await writeRunGallery(model, dir, preds, {
      plan: config.gallery, seed: config.seed, root, imageSize: config.imageSize, batchSize: config.evalBatchSize, threshold, title: config.magnification, signal: options.signal,
    });
    options.onEvent?.({ event: 'gallery', dir: path.join(dir, 'gallery'), files: Object.keys(files).length, seconds: (performance.now() - started) / 1000 });
    return files;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    options.onEvent?.({ event: 'warning', message: `No Grad-CAM gallery was written (${(err as Error).message.split('\n')[0]}); the metrics are. Evaluate the run again to retry.` });
    return undefined;
  }
}

/**
 * The model's predictions of one part of the run's data, in the part's order. Distributed, each rank
 * predicts its strided share (as validation does during training) and every rank gets all of them,
 * so every image is predicted exactly once. All ranks must call it together, without a signal:
 * a rank that stopped alone would leave the others waiting in the gather.
 */
async function predictPart(model: Model, data: RunData, part: 'val' | 'test', opts: PredictOptions, o: EvaluateOptions & SplitPredictor): Promise<EntryPrediction[]> {
  const entries = data.parts[part];
  const dist = o.dist;
  const mine = dist ? dist.shard(entries) : entries;
  o.onEvent?.({ event: 'evaluate', part, images: entries.length, ...(dist ? { shard: { rank: dist.rank, ranks: dist.worldSize, images: mine.length } } : {}) });
  const preds = await predictEntries(model, mine, dist ? { ...opts, signal: undefined } : opts);
  return dist ? dist.gatherShards(preds) : preds;
}

/**
 * A rank other than 0 of a distributed run: its shares of the final validation and test
 * predictions of best.pt, gathered to rank 0 (which writes metrics.json in `evaluateRun`).
 */
export async function predictRunShare(runDir: string, options: EvaluateOptions & Required<SplitPredictor>): Promise<void> {
  const config = readRunConfig(runDir);
  const data = loadRunData(runDir, config);
  const { model } = await loadBest(runDir, options.device ?? config.device, options.precision);
  try {
    const opts = predictOptions(config, data.manifest.root, new ImageCache(config.cacheMegabytes * 2 ** 20));
    await predictPart(model, data, 'val', opts, options);
    await predictPart(model, data, 'test', opts, options);
  } finally {
    model.dispose();
  }
}

export function reportOf(preds: EntryPrediction[], threshold: number): EvaluationReport {
  return evaluatePredictions(preds.map(({ label, probMalignant, patient, subtype }) => ({ label, probMalignant, patient, subtype })), { threshold });
}

/**
 * Threshold on validation, test at it, metrics.json and plots in the run folder. With `dist` (rank
 * 0 of a world whose other ranks call `predictRunShare`) both splits are predicted in shards.
 */
export async function evaluateRun(runDir: string, options: EvaluateOptions & SplitPredictor = {}): Promise<RunMetrics> {
  const config = readRunConfig(runDir);
  const data = loadRunData(runDir, config);
  const epochs = readEpochLog(runDir);
  const { model, epoch: bestEpoch } = await loadBest(runDir, options.device ?? config.device, options.precision);
  try {
    const cache = new ImageCache(config.cacheMegabytes * 2 ** 20);
    const opts = predictOptions(config, data.manifest.root, cache, options.signal);
    const val = await predictPart(model, data, 'val', opts, options);
    const threshold = selectThreshold(val.map((p) => p.label), val.map((p) => p.probMalignant), config.thresholdCriterion);
    const valReport = reportOf(val, threshold.threshold);
    const weights = trainingClassWeights(config.classWeighting, data.parts.train);
    const valLoss = weightedCrossEntropy(val.map((p) => p.probabilities), val.map((p) => p.label), weights).mean;
    const testPreds = await predictPart(model, data, 'test', opts, options);
    const test = reportOf(testPreds, threshold.threshold);
    const plots = await writeRunPlots(runDir, epochs, bestEpoch, test, config.magnification);
    const gallery = await galleryOf(model, runDir, testPreds, config, data.manifest.root, threshold.threshold, options);
    const stoppedEarly = epochs.length < config.maxEpochs;
    const faithfulness = options.faithfulness ? await faithfulnessSample(model, data.parts.test, {
      root: data.manifest.root, imageSize: config.imageSize, images: options.faithfulness, seed: config.seed,
      batchSize: config.evalBatchSize, signal: options.signal,
    }) : undefined;
    const metrics: RunMetrics = {
      run: path.basename(path.resolve(runDir)),
      magnification: config.magnification,
      bestEpoch,
      epochs: epochs.length,
      stoppedEarly,
      threshold,
      validation: { accuracy: valReport.metrics.accuracy, weightedF1: valReport.metrics.weightedF1, loss: valLoss, report: valReport },
      test,
      plots,
      ...(gallery ? { gallery } : {}),
      evaluatedAt: new Date().toISOString(),
      precision: model.info().precision,
      ...(faithfulness ? { faithfulness } : {}),
    };
    await writeJsonAtomic(runFile(runDir, 'metrics'), metrics);
    return metrics;
  } finally {
    model.dispose();
  }
}

/** Reads a finished run's metrics.json. */
export function readRunMetrics(runDir: string): RunMetrics {
  const file = runFile(runDir, 'metrics');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as RunMetrics;
  } catch {
    throw new Error(`${path.resolve(runDir)} has no metrics.json: the run has not finished; resume it with \`histoscope train --resume ${runDir}\`.`);
  }
}

async function externalEntries(config: TrainConfig, options: ExternalSource): Promise<{ entries: ManifestEntry[]; root: string; source: string }> {
  const atMag = (es: ManifestEntry[]): ManifestEntry[] => (config.magnification === 'pooled' ? es : es.filter((e) => e.magnification === config.magnification));
  if (options.split) {
    const loaded = loadSplit(path.resolve(options.split));
    return { entries: atMag(loaded.entries('test', config.fold < loaded.split.splits.length ? config.fold : 0)), root: loaded.manifest.root, source: path.resolve(options.split) };
  }
  const manifest = await indexDataset(options.data!);
  return { entries: atMag(manifest.entries), root: manifest.root, source: manifest.root };
}

/** The run's best checkpoint on another split's test part or a folder, at the run's own threshold. */
export async function evaluateExternal(runDir: string, options: EvaluateOptions & ExternalSource): Promise<ExternalEvaluation> {
  if (!options.split === !options.data) throw new Error('Evaluate another source with exactly one of a split file or a data folder.');
  const config = readRunConfig(runDir);
  // The threshold stays the one chosen on the run's own validation split.
  const threshold = readRunMetrics(runDir).threshold.threshold;
  const { entries, root, source } = await externalEntries(config, options);
  if (entries.length === 0) throw new Error(`No images at ${config.magnification} in ${source}.`);
  const { model, epoch } = await loadBest(runDir, options.device ?? config.device, options.precision);
  try {
    options.onEvent?.({ event: 'evaluate', part: 'test', images: entries.length });
    const preds = await predictEntries(model, entries, predictOptions(config, root, new ImageCache(config.cacheMegabytes * 2 ** 20), options.signal));
    const test = reportOf(preds, threshold);
    const outDir = createRunDir(path.join(runDir, 'evaluations'), runName(config).slice(0, 15));
    const plots = await writeRunPlots(outDir, [], epoch, test, config.magnification);
    const gallery = await galleryOf(model, outDir, preds, config, root, threshold, options);
    const result: ExternalEvaluation = {
      run: path.basename(path.resolve(runDir)), source, threshold, test, plots, ...(gallery ? { gallery } : {}), evaluatedAt: new Date().toISOString(),
      precision: model.info().precision,
    };
    await writeJsonAtomic(path.join(outDir, 'metrics.json'), result);
    return result;
  } finally {
    model.dispose();
  }
}
