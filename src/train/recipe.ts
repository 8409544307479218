// The study's recipe as one typed defaults object, and its resolution against overrides (CLI
// flags, library callers). The resolved config is what a run saves and what every part reads.
import * as path from 'node:path';
import { DEFAULT_FRACTIONS, MAGNIFICATIONS, type GroupBy, type Magnification, type SplitFractions } from '../data';
import type { ThresholdCriterion } from '../eval';
import { FROZEN_BATCH_NORM, PRECISIONS, ROTATION_FILLS, STAIN_METHODS, TRAINABLE_POLICIES, type FrozenBatchNorm, type Precision, type RotationFill, type StainMethod, type TrainablePolicy } from '../native';
import { defaultDecodeConcurrency } from '../util/decode-threads';
import { ValidationError, expectBoolean, expectInteger, expectNumber, expectOneOf, expectString, invalid } from '../util/expect';

/** One magnification (the study trains one model per magnification) or all of them pooled. */
export type TrainMagnification = Magnification | 'pooled';
export const TRAIN_MAGNIFICATIONS: readonly TrainMagnification[] = [...MAGNIFICATIONS, 'pooled'];

export interface AugmentationPlan {
  horizontalFlip: boolean;
  verticalFlip: boolean;
  rightAngleRotation: boolean;
  /** Extra arbitrary rotation in [-d, d] degrees; 0 keeps to flips and right angles. */
  maxRotationDegrees: number;
  fill: RotationFill;
  /** HED stain jitter strength (Tellez et al. 2019): per-stain scale U(1-s, 1+s), shift U(-s, s); 0 = off. */
  hedStrength: number;
}

export interface TrainConfig {
  /** Dataset folder (BreakHis layout or any layout with BreakHis names). */
  data: string;
  /** Reuse this manifest instead of indexing `data`. */
  manifest: string | null;
  /** Reuse this split file instead of making one. */
  split: string | null;
  /** Fold of a k-fold split file (0-based); 0 for a hold-out split. */
  fold: number;
  magnification: TrainMagnification;
  /** 'imagenet' (torchvision file from the cache folder), 'none' (random init), or a weights file path. */
  weights: string;
  trainable: TrainablePolicy;
  frozenBatchNorm: FrozenBatchNorm;
  precision: Precision;
  /** 'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'. */
  device: string;
  imageSize: number;
  learningRate: number;
  weightDecay: number;
  /** 'inverse-frequency': weight of class c = n / (2 n_c) over the training split. */
  classWeighting: 'inverse-frequency' | 'none';
  maxEpochs: number;
  /** Stop after this many epochs without a better validation weighted F1. */
  patience: number;
  batchSize: number;
  /** Images per class per magnification over all parts (the study's 500/600); null = all. */
  perClass: number | null;
  augmentation: AugmentationPlan;
  splitFractions: SplitFractions;
  groupBy: GroupBy;
  /** One seed for split, head initialisation, shuffling and augmentation. */
  seed: number;
  /** Decision threshold chosen on validation by this criterion. */
  thresholdCriterion: ThresholdCriterion;
  runsDir: string;
  /** Batches decoded ahead of the one training. */
  prefetch: number;
  /** Images decoded at once (default: one per core). */
  decodeConcurrency: number;
  /**
   * 'auto': keep each split's decoded images on the model's device (GPU memory, or RAM for a CPU
   * model) when they fit the budget, so epochs after the first gather batches there; 'off': decode
   * or read every batch from the caches each epoch.
   */
  deviceImages: 'auto' | 'off';
  /** Budget for those images in MB; null = half the GPU's free memory, or a quarter of free RAM. */
  deviceImageBudgetMegabytes: number | null;
  /**
   * How the learning rate follows the batch size. 'auto': the recipe's rate up to batch 64 (the
   * study's sizes), linear scaling from batch 32 above (rate x batch / 32, Goyal et al. 2017) with
   * a one-epoch linear warm-up; 'linear': that rule at every size; 'none': the rate as given.
   */
  learningRateScaling: 'auto' | 'linear' | 'none';
  /** Decoded-image cache budget; images are re-decoded each epoch when the split does not fit. */
  cacheMegabytes: number;
  /** Persistent decoded-image cache shared by runs: 'auto' (`$HISTOSCOPE_CACHE/decoded`, else ~/.cache/histoscope/decoded), 'off', or a folder. */
  decodeCache: string;
  /** Its bound in GiB; null: the smaller of 20 GiB and half the free disk. */
  decodeCacheGigabytes: number | null;
  /** Batch of validation and test passes; by default the larger of 64 and the training batch. */
  evalBatchSize: number;
  /** Grad-CAM gallery written with the run's evaluation (gallery/); null = none (`--no-gallery`). */
  gallery: GalleryPlan | null;
  /** Stain normalisation of every input (training, evaluation, inference); 'none' is the study's recipe. */
  stainNorm: StainMethod;
  /** What the normalisation is fitted to: 'train' (a seeded sample of the training split) or an image file. */
  stainTarget: string;
  /**
   * Data-parallel training: BatchNorm layers in training mode take their statistics over the global
   * batch across ranks (torch.nn.SyncBatchNorm) instead of each rank's share (DDP's default).
   * A single process trains exactly as without it.
   */
  syncBatchNorm: boolean;
}

/** Test images shown with their Grad-CAM maps: a seeded sample per class, and the highest losses. */
export interface GalleryPlan {
  perClass: number;
  topLosses: number;
}

/** The study's recipe: ResNet-50 from ImageNet, layer4 + fc trained, Adam 1e-4, weighted CE, ≤ 20 epochs. */
export const STUDY_RECIPE: Omit<TrainConfig, 'data'> = Object.freeze({
  manifest: null,
  split: null,
  fold: 0,
  magnification: '40X',
  weights: 'imagenet',
  trainable: 'layer4+fc',
  frozenBatchNorm: 'frozen',
  precision: 'fp32',
  device: 'auto',
  imageSize: 224,
  learningRate: 1e-4,
  weightDecay: 1e-4,
  classWeighting: 'inverse-frequency',
  maxEpochs: 20,
  patience: 5,
  batchSize: 32,
  perClass: 600,
  augmentation: Object.freeze({ horizontalFlip: true, verticalFlip: true, rightAngleRotation: true, maxRotationDegrees: 0, fill: 'reflection', hedStrength: 0 }),
  splitFractions: DEFAULT_FRACTIONS,
  groupBy: 'patient',
  seed: 42,
  thresholdCriterion: 'weightedF1',
  runsDir: 'runs',
  prefetch: 2,
  decodeConcurrency: defaultDecodeConcurrency(),
  deviceImages: 'auto',
  deviceImageBudgetMegabytes: null,
  learningRateScaling: 'auto',
  cacheMegabytes: 1024,
  decodeCache: 'auto',
  decodeCacheGigabytes: null,
  evalBatchSize: 64,
  gallery: Object.freeze({ perClass: 4, topLosses: 8 }),
  stainNorm: 'none',
  stainTarget: 'train',
  syncBatchNorm: false,
}) as Omit<TrainConfig, 'data'>;

export const LEARNING_RATE_SCALINGS = ['auto', 'linear', 'none'] as const;

export type TrainOverrides = Partial<Omit<TrainConfig, 'augmentation'>> & { data: string; augmentation?: Partial<AugmentationPlan> };

export interface ResolvedConfig {
  config: TrainConfig;
  /** Things the user should read (e.g. training without ImageNet weights). */
  warnings: string[];
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Defaults + overrides, validated; `--weights none` switches the default trainable policy to 'all'. */
export function resolveTrainConfig(overrides: TrainOverrides): ResolvedConfig {
  const o = defined(overrides);
  const warnings: string[] = [];
  const weights = o.weights ?? STUDY_RECIPE.weights;
  const scratch = weights === 'none';
  const config: TrainConfig = {
    ...STUDY_RECIPE,
    ...o,
    data: path.resolve(expectString(overrides.data, 'data folder')),
    weights,
    // Random frozen layers would be noise features: from scratch every layer must learn.
    trainable: o.trainable ?? (scratch ? 'all' : STUDY_RECIPE.trainable),
    augmentation: { ...STUDY_RECIPE.augmentation, ...defined(overrides.augmentation ?? {}) },
    splitFractions: { ...(o.splitFractions ?? STUDY_RECIPE.splitFractions) },
    runsDir: path.resolve(o.runsDir ?? STUDY_RECIPE.runsDir),
    manifest: o.manifest ? path.resolve(o.manifest) : null,
    split: o.split ? path.resolve(o.split) : null,
    // Evaluation keeps no gradients: it can take at least the training batch at once.
    evalBatchSize: o.evalBatchSize ?? Math.max(STUDY_RECIPE.evalBatchSize, o.batchSize ?? STUDY_RECIPE.batchSize),
    stainTarget: o.stainTarget && o.stainTarget !== 'train' ? path.resolve(o.stainTarget) : o.stainTarget ?? STUDY_RECIPE.stainTarget,
    decodeCache: o.decodeCache && o.decodeCache !== 'auto' && o.decodeCache !== 'off' ? path.resolve(o.decodeCache) : o.decodeCache ?? STUDY_RECIPE.decodeCache,
  };
  if (scratch) {
    warnings.push(`Training from random initialisation (--weights none), trainable '${config.trainable}': ` +
      'this is not the study\'s recipe and needs far more data and epochs to reach its accuracy.');
  }
  if (config.stainNorm === 'none' && o.stainTarget !== undefined) {
    warnings.push('--stain-target has no effect without --stain-norm macenko|reinhard: inputs are not stain-normalised.');
  }
  validateConfig(config);
  return { config, warnings };
}

export function validateConfig(c: TrainConfig): TrainConfig {
  expectOneOf(c.magnification, 'magnification', TRAIN_MAGNIFICATIONS);
  expectString(c.weights, 'weights');
  expectOneOf(c.trainable, 'trainable', TRAINABLE_POLICIES);
  expectOneOf(c.frozenBatchNorm, 'frozenBatchNorm', FROZEN_BATCH_NORM);
  expectOneOf(c.precision, 'precision', PRECISIONS);
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(c.device)) throw invalid("'auto', 'cpu', 'cuda' or 'cuda:N'", 'device', c.device);
  expectInteger(c.imageSize, 'image size', 32, 4096);
  expectNumber(c.learningRate, 'learning rate', 0, 10);
  expectNumber(c.weightDecay, 'weight decay', 0, 10);
  expectOneOf(c.classWeighting, 'class weighting', ['inverse-frequency', 'none'] as const);
  expectInteger(c.maxEpochs, 'epochs', 1, 10000);
  expectInteger(c.patience, 'patience', 1, 10000);
  expectInteger(c.batchSize, 'batch size', 1, 4096);
  if (c.perClass !== null) expectInteger(c.perClass, 'images per class', 1);
  expectInteger(c.fold, 'fold', 0);
  expectInteger(c.seed, 'seed', 0, 2 ** 32 - 1);
  expectOneOf(c.groupBy, 'groupBy', ['patient', 'case'] as const);
  expectOneOf(c.thresholdCriterion, 'threshold criterion', ['weightedF1', 'youdenJ'] as const);
  const a = c.augmentation;
  for (const k of ['horizontalFlip', 'verticalFlip', 'rightAngleRotation'] as const) expectBoolean(a[k], `augmentation.${k}`);
  expectNumber(a.maxRotationDegrees, 'augmentation.maxRotationDegrees', 0, 180);
  expectOneOf(a.fill, 'augmentation.fill', ROTATION_FILLS);
  // Absent from configs saved before stain work: those resume without it.
  if (a.hedStrength !== undefined) expectNumber(a.hedStrength, 'stain augmentation strength', 0, 1);
  if (c.stainNorm !== undefined) expectOneOf(c.stainNorm, 'stain normalisation', STAIN_METHODS);
  if (c.stainTarget !== undefined) expectString(c.stainTarget, 'stain target');
  expectInteger(c.prefetch, 'prefetch', 0, 64);
  expectInteger(c.decodeConcurrency, 'decode concurrency', 1, 1024);
  expectOneOf(c.deviceImages, 'device images', ['auto', 'off'] as const);
  if (c.deviceImageBudgetMegabytes !== null) expectNumber(c.deviceImageBudgetMegabytes, 'device image budget (MB)', 0);
  expectOneOf(c.learningRateScaling, 'learning-rate scaling', LEARNING_RATE_SCALINGS);
  expectNumber(c.cacheMegabytes, 'cache size (MB)', 0);
  // Absent from configs saved before the persistent cache existed: those resume with the defaults.
  if (c.decodeCache !== undefined) expectString(c.decodeCache, 'decode cache');
  if (c.decodeCacheGigabytes != null) expectNumber(c.decodeCacheGigabytes, 'decode cache size (GiB)', 0);
  expectInteger(c.evalBatchSize, 'evaluation batch size', 1, 4096);
  // Absent from configs saved before it existed: those resume with per-rank statistics.
  if (c.syncBatchNorm !== undefined) expectBoolean(c.syncBatchNorm, 'syncBatchNorm');
  if (c.syncBatchNorm && c.trainable === 'fc' && c.frozenBatchNorm === 'frozen') {
    throw new ValidationError('Expected layer4+fc or all for --trainable with --sync-bn but received fc: with only fc trained, every ' +
      'BatchNorm layer keeps its running statistics, so there are no batch statistics to synchronise; drop --sync-bn or train layer4.');
  }
  if (c.gallery != null) {
    expectInteger(c.gallery.perClass, 'gallery.perClass (images per class)', 0, 64);
    expectInteger(c.gallery.topLosses, 'gallery.topLosses (highest-loss images)', 0, 256);
  }
  return c;
}
