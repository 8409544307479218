// The one door to the C++ addon: the only module that loads the `.node` file. It validates every
// argument before it crosses, types the results, and turns native failures into Errors whose stack
// points at the caller's line (as sharp does), not at this file.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { expectBoolean, expectInteger, expectNumber, expectOneOf, expectString, invalid } from './util/expect';

export const TRAINABLE_POLICIES = ['fc', 'layer4+fc', 'all'] as const;
export type TrainablePolicy = (typeof TRAINABLE_POLICIES)[number];
export const PRECISIONS = ['fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];
export const FROZEN_BATCH_NORM = ['frozen', 'update'] as const;
export type FrozenBatchNorm = (typeof FROZEN_BATCH_NORM)[number];
export const ROTATION_FILLS = ['reflection', 'border', 'black', 'white'] as const;
export type RotationFill = (typeof ROTATION_FILLS)[number];
/** Class-activation maps: Grad-CAM (Selvaraju et al. 2017) or Grad-CAM++ (Chattopadhay et al. 2018). */
export const CAM_METHODS = ['gradcam', 'gradcam++'] as const;
export type CamMethod = (typeof CAM_METHODS)[number];
export const STAIN_METHODS = ['none', 'macenko', 'reinhard'] as const;
export type StainMethod = (typeof STAIN_METHODS)[number];

/**
 * What a model's inputs are stain-normalised to (native/core/stain/). `values`: Macenko, the unit
 * optical-density vectors of haematoxylin then eosin (RGB each) and their 99th-percentile
 * concentrations (8 numbers); Reinhard, the CIELAB means then standard deviations (6); none, [].
 */
export interface StainTarget {
  method: StainMethod;
  values: number[];
}
export const NO_STAIN_TARGET: StainTarget = Object.freeze({ method: 'none', values: [] }) as StainTarget;

export interface ModelOptions {
  /** Output classes; 2 = benign (0) / malignant (1). */
  numClasses?: number;
  /** Parameters the optimiser updates; the study trains 'layer4+fc'. */
  trainable?: TrainablePolicy;
  /** Frozen layers' BatchNorm: 'frozen' keeps ImageNet statistics, 'update' is PyTorch's usual model.train(). */
  frozenBatchNorm?: FrozenBatchNorm;
  precision?: Precision;
  /** 'auto' (CUDA when available), 'cpu', 'cuda' or 'cuda:N'. */
  device?: string;
  channelsLast?: boolean;
  learningRate?: number;
  weightDecay?: number;
  /** Side of the square model input; images of another size are resized on the device. */
  imageSize?: number;
  /** Seed for the initialisation of weights no file provides (the new head). */
  seed?: number;
}

/** uint8 RGB pixels, NHWC: shape [n, height, width, 3]. */
export interface ImageBatch {
  data: Uint8Array;
  shape: readonly [number, number, number, number];
}

export interface AugmentOptions {
  horizontalFlip?: boolean;
  verticalFlip?: boolean;
  rightAngleRotation?: boolean;
  /** Extra rotation by a uniform angle in [-d, d] degrees; 0 = none. */
  maxRotationDegrees?: number;
  /** What fills the corners an arbitrary rotation uncovers (default 'reflection'). */
  fill?: RotationFill;
  /** HED stain jitter (Tellez et al. 2019): scale U(1-s, 1+s) and shift U(-s, s) per stain; 0 = none. */
  hedStrength?: number;
  /** Same seed, same augmentation, on any device. */
  seed: number;
  /** One seed per image (overrides `seed`): an image is augmented alike in any batch or rank. */
  sampleSeeds?: number[];
}

/** Robustness evaluation: what predict may do beyond the model's own preprocessing. */
export interface PredictOptions {
  /** Normalise to this target instead of the model's own ({ method: 'none' } = not at all). */
  stain?: StainTarget;
  /** A seeded HED perturbation (as in AugmentOptions.hedStrength) applied before normalisation. */
  perturbStrength?: number;
  perturbSeed?: number;
}

export interface DetailedPrediction {
  /** Softmax probabilities per image ([n][classes]). */
  probabilities: number[][];
  /** Per image: the stain normaliser found no tissue (blank, white, one colour) and left it unchanged. */
  stainFallback: boolean[];
}

export interface TrainStepOptions {
  classWeights?: number[];
  augment?: AugmentOptions | null;
}

export interface TrainStepResult {
  loss: number;
  /** [n][classes] logits before softmax. */
  logits: number[][];
  /** Images of the batch the stain normaliser left unchanged (no tissue). */
  stainFallbacks: number;
}

export interface GradCamResult {
  /** height*width values in 0..1, row-major, at the input image's size. */
  cam: Float32Array;
  width: number;
  height: number;
  probabilities: number[];
  targetClass: number;
  /** The stain normaliser left this image unchanged (no tissue). */
  stainFallback: boolean;
}

export interface WeightsReport {
  loaded: number;
  headDropped: boolean;
  notices: string[];
}

export interface ModelInfo {
  device: string;
  numClasses: number;
  trainable: TrainablePolicy;
  frozenBatchNorm: FrozenBatchNorm;
  precision: Precision;
  channelsLast: boolean;
  /** Loaded with `inferenceOnly`: BatchNorm folded into the convolutions; it predicts and explains only. */
  inferenceOnly: boolean;
  /** Inference-only fp32 on CPU: the trunk runs with oneDNN-packed weights (HISTOSCOPE_ONEDNN_PACKING=0: off). */
  oneDnnPacked: boolean;
  learningRate: number;
  weightDecay: number;
  imageSize: number;
  parameters: number;
  trainableParameters: number;
  /** The stain target inputs are normalised to (saved with the model). */
  stain: StainTarget;
}

type NativePrediction = { logits: Float32Array; stainFallback: Uint8Array };
type NativeStep = { loss: number; logits: Float32Array; stainFallbacks: number };

interface NativeModelHandle {
  loadWeights(file: string): Promise<WeightsReport>;
  predict(data: Uint8Array, shape: readonly number[], options: PredictOptions): Promise<NativePrediction>;
  trainStep(data: Uint8Array, shape: readonly number[], labels: Int32Array,
    options: { classWeights?: number[]; augment?: AugmentOptions }): Promise<NativeStep>;
  gradcam(data: Uint8Array, shape: readonly number[], targetClass: number, method: CamMethod): Promise<{
    cam: Float32Array; width: number; height: number; probabilities: Float32Array; targetClass: number; stainFallback: boolean;
  }>;
  gradcamBatch(data: Uint8Array, shape: readonly number[], targets: Int32Array, method: CamMethod, threshold?: number): Promise<{
    cam: Float32Array; width: number; height: number; probabilities: Float32Array; targetClass: number; stainFallback: boolean;
  }[]>;
  save(file: string, metadata: string, epoch: number): Promise<void>;
  predictStored(store: NativeImageStoreHandle, rows: Int32Array, options: PredictOptions): Promise<NativePrediction>;
  trainStepStored(store: NativeImageStoreHandle, rows: Int32Array, labels: Int32Array,
    options: { classWeights?: number[]; augment?: AugmentOptions }): Promise<NativeStep>;
  setLearningRate(rate: number): Promise<void>;
  trainableParameters(): Promise<Float32Array>;
  batchNormStatistics(): Promise<Float32Array>;
  setStainTarget(target: StainTarget): Promise<void>;
  info(): ModelInfo;
  dispose(): void;
}

export interface ImageStoreInfo {
  count: number;
  height: number;
  width: number;
  bytes: number;
  device: string;
}

interface NativeImageStoreHandle {
  write(rows: Int32Array, data: Uint8Array, shape: readonly number[]): Promise<void>;
  info(): ImageStoreInfo;
  dispose(): void;
}

interface NativeProcessGroupHandle {
  allgatherBytes(bytes: Uint8Array): Promise<Buffer[]>;
  broadcastBytes(bytes: Uint8Array, root: number): Promise<Buffer>;
  barrier(): Promise<void>;
  attachModel(model: NativeModelHandle, bucketBytes: number, syncBatchNorm: boolean): Promise<void>;
  stepWithoutImages(model: NativeModelHandle): Promise<{ loss: number }>;
  close(): void;
}

interface Addon {
  NativeProcessGroup: {
    create(options: Required<ProcessGroupOptions>): Promise<NativeProcessGroupHandle>;
    backendAvailable(backend: string): boolean;
  };
  NativeImageStore: {
    create(count: number, height: number, width: number, device: string): Promise<NativeImageStoreHandle>;
  };
  NativeModel: {
    create(options: ModelOptions): Promise<NativeModelHandle>;
    load(file: string, device: string, precision: Precision | undefined, inferenceOnly: boolean): Promise<{ model: NativeModelHandle; metadata: string; epoch: number }>;
  };
  stainFit(method: StainMethod, data: Uint8Array, shape: readonly number[], size: number, device: string): Promise<StainTarget>;
  stainNormalize(data: Uint8Array, shape: readonly number[], target: StainTarget, device: string): Promise<{ pixels: Float32Array; fallback: Uint8Array }>;
  hedJitter(data: Uint8Array, shape: readonly number[], strength: number, seed: number, device: string): Promise<Float32Array>;
  setThreads(threads: number): Promise<number>;
  getThreads(): number;
  cudaAvailable(): boolean;
  libtorchVersion: string;
}

// src/native.ts (tsx) or dist/src/native.js (compiled): build/ is one or two levels up. Looking for
// the file, not at folder names, keeps a checkout that is itself called `dist` working.
const ADDON_CANDIDATES = [['..'], ['..', '..']].map((up) => path.resolve(__dirname, ...up, 'build', 'Release', 'histoscope.node'));
const ADDON_PATH = ADDON_CANDIDATES.find((p) => fs.existsSync(p)) ??
  ADDON_CANDIDATES[path.basename(path.resolve(__dirname, '..')) === 'dist' ? 1 : 0];

let addon: Addon | undefined;
function native(): Addon {
  if (!addon) {
    if (!fs.existsSync(ADDON_PATH)) {
      throw new Error(`The native addon is not built (${path.relative(process.cwd(), ADDON_PATH)} is missing). ` +
        'Run `npm ci` (or `npm run build:native`) after `bash scripts/setup.sh`.');
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(ADDON_PATH) as Addon;
  }
  return addon;
}

/** Runs a native call; a rejection becomes an Error with the native message and the caller's stack. */
async function call<T>(run: () => Promise<T>): Promise<T> {
  const caller = new Error();
  try {
    return await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // The native side's error class (TypeError for a wrong argument type) survives the re-wrap.
    const error = err instanceof TypeError ? new TypeError(message) : new Error(message);
    error.stack = `${error.name}: ${message}\n${(caller.stack ?? '').split('\n').slice(2).join('\n')}`;
    throw error;
  }
}

function checkBatch(batch: ImageBatch, name: string, single = false): void {
  if (!(batch?.data instanceof Uint8Array)) throw invalid('Uint8Array of RGB pixels', `${name}.data`, batch?.data);
  const shape = batch.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || shape[3] !== 3) {
    throw invalid('[n, height, width, 3]', `${name}.shape`, shape);
  }
  expectInteger(shape[0], `${name}.shape[0] (images)`, 1, single ? 1 : 4096);
  expectInteger(shape[1], `${name}.shape[1] (height)`, 1, 16384);
  expectInteger(shape[2], `${name}.shape[2] (width)`, 1, 16384);
  const expected = shape[0] * shape[1] * shape[2] * 3;
  if (batch.data.length !== expected) {
    throw invalid(`${expected} bytes (${shape.join('x')})`, `${name}.data`, batch.data);
  }
}

function checkOptions(options: ModelOptions): ModelOptions {
  if (options.numClasses !== undefined) expectInteger(options.numClasses, 'numClasses', 2, 1000);
  if (options.trainable !== undefined) expectOneOf(options.trainable, 'trainable', TRAINABLE_POLICIES);
  if (options.frozenBatchNorm !== undefined) expectOneOf(options.frozenBatchNorm, 'frozenBatchNorm', FROZEN_BATCH_NORM);
  if (options.precision !== undefined) expectOneOf(options.precision, 'precision', PRECISIONS);
  if (options.device !== undefined && !/^(auto|cpu|cuda(:\d+)?)$/.test(options.device)) {
    throw invalid("'auto', 'cpu', 'cuda' or 'cuda:N'", 'device', options.device);
  }
  if (options.learningRate !== undefined) expectNumber(options.learningRate, 'learningRate', 0, 10);
  if (options.weightDecay !== undefined) expectNumber(options.weightDecay, 'weightDecay', 0, 10);
  if (options.imageSize !== undefined) expectInteger(options.imageSize, 'imageSize', 32, 4096);
  if (options.seed !== undefined) expectInteger(options.seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
  return options;
}

function softmax(logits: number[]): number[] {
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function rows(values: Float32Array, columns: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < values.length; i += columns) out.push(Array.from(values.subarray(i, i + columns)));
  return out;
}

/** A ResNet-50 benign/malignant classifier living in the native core. */
export class Model {
  private handle: NativeModelHandle | null;
  private readonly classes: number;

  private constructor(handle: NativeModelHandle) {
    this.handle = handle;
    this.classes = handle.info().numClasses;
  }

  /** A new model: ImageNet-shaped ResNet-50 with a fresh `numClasses` head, weights initialised as torchvision does. */
  static async create(options: ModelOptions = {}): Promise<Model> {
    checkOptions(options);
    return new Model(await call(() => native().NativeModel.create(options)));
  }

  /**
   * Restores a checkpoint written by `save`, with its metadata; `device` overrides where it runs,
   * `precision` the precision it runs in (default: the checkpoint's own). `inferenceOnly` folds
   * BatchNorm into the convolutions (less work per image); such a model predicts and explains,
   * and refuses to train, save or load other weights.
   */
  static async load(file: string, options: { device?: string; precision?: Precision; inferenceOnly?: boolean } = {}): Promise<{ model: Model; metadata: unknown; epoch: number }> {
    expectString(file, 'checkpoint path');
    checkOptions({ device: options.device, precision: options.precision });
    const loaded = await call(() => native().NativeModel.load(path.resolve(file), options.device ?? 'auto', options.precision, options.inferenceOnly === true));
    return { model: new Model(loaded.model), metadata: JSON.parse(loaded.metadata), epoch: loaded.epoch };
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  private live(): NativeModelHandle {
    if (!this.handle) throw new Error('This model was disposed; load it again to use it.');
    return this.handle;
  }

  /** Copies a torchvision state dict (.pth zip or legacy, or .safetensors) into the model; strict on names and shapes. */
  loadWeights(file: string): Promise<WeightsReport> {
    expectString(file, 'weights path');
    const handle = this.live();
    return call(() => handle.loadWeights(path.resolve(file)));
  }

  /** Softmax probabilities per image ([n][classes]), eval mode, no gradients. */
  async predict(batch: ImageBatch): Promise<number[][]> {
    return (await this.logits(batch)).map(softmax);
  }

  /** Raw logits per image ([n][classes]), eval mode, no gradients. */
  async logits(batch: ImageBatch): Promise<number[][]> {
    checkBatch(batch, 'batch');
    const handle = this.live();
    return rows((await call(() => handle.predict(batch.data, batch.shape, {}))).logits, this.classes);
  }

  /** Probabilities with the stain normaliser's fallbacks, optionally under a stain override or perturbation. */
  async predictDetailed(batch: ImageBatch, options: PredictOptions = {}): Promise<DetailedPrediction> {
    checkBatch(batch, 'batch');
    const native = checkPredictOptions(options);
    const handle = this.live();
    return this.detailed(await call(() => handle.predict(batch.data, batch.shape, native)));
  }

  /** The same for rows of a device-resident image store. */
  async predictStoredDetailed(store: ImageStore, storeRows: ArrayLike<number>, options: PredictOptions = {}): Promise<DetailedPrediction> {
    const rowArray = store.checkRows(storeRows);
    const native = checkPredictOptions(options);
    const [handle, storeHandle] = [this.live(), store.live()];
    return this.detailed(await call(() => handle.predictStored(storeHandle, rowArray, native)));
  }

  private detailed(result: NativePrediction): DetailedPrediction {
    return { probabilities: rows(result.logits, this.classes).map(softmax), stainFallback: Array.from(result.stainFallback, (f) => f === 1) };
  }

  /** Sets the stain target every later input is normalised to; saved with the model by `save`. */
  setStainTarget(target: StainTarget): Promise<void> {
    const checked = checkStainTarget(target, 'stain target');
    const handle = this.live();
    return call(() => handle.setStainTarget(checked));
  }

  /** One Adam step of class-weighted cross-entropy on the (optionally augmented) batch. */
  async trainStep(batch: ImageBatch, labels: ArrayLike<number>, options: TrainStepOptions = {}): Promise<TrainStepResult> {
    checkBatch(batch, 'batch');
    const step = this.stepArguments(batch.shape[0], labels, options);
    const handle = this.live();
    const result = await call(() => handle.trainStep(batch.data, batch.shape, step.labels, step.options));
    return { loss: result.loss, logits: rows(result.logits, this.classes), stainFallbacks: result.stainFallbacks };
  }

  /** The same step on rows of a device-resident image store: no pixels cross from the host. */
  async trainStepStored(store: ImageStore, storeRows: ArrayLike<number>, labels: ArrayLike<number>,
    options: TrainStepOptions = {}): Promise<TrainStepResult> {
    const rowArray = store.checkRows(storeRows);
    const step = this.stepArguments(rowArray.length, labels, options);
    const [handle, storeHandle] = [this.live(), store.live()];
    const result = await call(() => handle.trainStepStored(storeHandle, rowArray, step.labels, step.options));
    return { loss: result.loss, logits: rows(result.logits, this.classes), stainFallbacks: result.stainFallbacks };
  }

  /** Raw logits ([n][classes]) of rows of a device-resident image store, eval mode. */
  async logitsStored(store: ImageStore, storeRows: ArrayLike<number>): Promise<number[][]> {
    const rowArray = store.checkRows(storeRows);
    const [handle, storeHandle] = [this.live(), store.live()];
    return rows((await call(() => handle.predictStored(storeHandle, rowArray, {}))).logits, this.classes);
  }

  /** Softmax probabilities of rows of a device-resident image store. */
  async predictStored(store: ImageStore, storeRows: ArrayLike<number>): Promise<number[][]> {
    return (await this.logitsStored(store, storeRows)).map(softmax);
  }

  /** Sets the optimiser's learning rate from the next step on (calls run in order). */
  setLearningRate(rate: number): Promise<void> {
    expectNumber(rate, 'learningRate', 0, 10);
    const handle = this.live();
    return call(() => handle.setLearningRate(rate));
  }

  private stepArguments(count: number, labels: ArrayLike<number>, options: TrainStepOptions):
    { labels: Int32Array; options: { classWeights?: number[]; augment?: AugmentOptions } } {
    if (labels.length !== count) throw invalid(`${count} labels`, 'labels', labels);
    const labelArray = Int32Array.from(labels, (l, i) => expectInteger(l, `labels[${i}]`, 0, this.classes - 1));
    const native: { classWeights?: number[]; augment?: AugmentOptions } = {};
    if (options.classWeights) {
      if (options.classWeights.length !== this.classes) throw invalid(`${this.classes} class weights`, 'classWeights', options.classWeights);
      native.classWeights = options.classWeights.map((w, i) => expectNumber(w, `classWeights[${i}]`, 0));
    }
    if (options.augment) {
      const a = options.augment;
      expectInteger(a.seed, 'augment.seed', 0, Number.MAX_SAFE_INTEGER);
      if (a.sampleSeeds !== undefined) {
        if (a.sampleSeeds.length !== count) throw invalid(`${count} augmentation seeds`, 'augment.sampleSeeds', a.sampleSeeds);
        a.sampleSeeds.forEach((seed, i) => expectInteger(seed, `augment.sampleSeeds[${i}]`, 0, Number.MAX_SAFE_INTEGER));
      }
      if (a.maxRotationDegrees !== undefined) expectNumber(a.maxRotationDegrees, 'augment.maxRotationDegrees', 0, 180);
      if (a.fill !== undefined) expectOneOf(a.fill, 'augment.fill', ROTATION_FILLS);
      if (a.hedStrength !== undefined) expectNumber(a.hedStrength, 'augment.hedStrength', 0, 1);
      native.augment = a;
    }
    return { labels: labelArray, options: native };
  }

  /** Grad-CAM (default) or Grad-CAM++ on layer4 for one image: a 0..1 map at the image's size, plus the probabilities. */
  async gradcam(image: ImageBatch, options: { targetClass?: number; method?: CamMethod } = {}): Promise<GradCamResult> {
    checkBatch(image, 'image', true);
    const target = options.targetClass === undefined ? -1 : expectInteger(options.targetClass, 'targetClass', 0, this.classes - 1);
    const method = options.method === undefined ? 'gradcam' : expectOneOf(options.method, 'method', CAM_METHODS);
    const handle = this.live();
    const result = await call(() => handle.gradcam(image.data, image.shape, target, method));
    return { ...result, probabilities: Array.from(result.probabilities) };
  }

  /**
   * Grad-CAM (or Grad-CAM++) for every image of a batch in one forward pass, one target class per image
   * (undefined: that image's predicted class — the arg-max, or with `threshold` (two classes) class 1
   * when P(class 1) ≥ threshold, as a model card labels it). Results in input order.
   */
  async gradcamBatch(images: ImageBatch, options: { targetClasses?: readonly (number | undefined)[]; method?: CamMethod; threshold?: number } = {}): Promise<GradCamResult[]> {
    checkBatch(images, 'images');
    const count = images.shape[0];
    const given = options.targetClasses ?? new Array<undefined>(count).fill(undefined);
    if (!Array.isArray(given) || given.length !== count) {
      throw invalid(`${count} target classes`, 'targetClasses', options.targetClasses);
    }
    const targets = Int32Array.from(given,
      (t, i) => (t === undefined ? -1 : expectInteger(t, `targetClasses[${i}]`, 0, this.classes - 1)));
    const method = options.method === undefined ? 'gradcam' : expectOneOf(options.method, 'method', CAM_METHODS);
    if (options.threshold !== undefined) {
      expectNumber(options.threshold, 'threshold', 0, 1);
      if (this.classes !== 2) throw new RangeError(`A Grad-CAM threshold needs a two-class model but this one has ${this.classes} classes.`);
    }
    const handle = this.live();
    const results = await call(() => handle.gradcamBatch(images.data, images.shape, targets, method, options.threshold));
    return results.map((r) => ({ ...r, probabilities: Array.from(r.probabilities) }));
  }

  /** Weights, optimiser state, epoch and metadata (JSON-serialisable) in one file, written atomically. */
  async save(file: string, options: { metadata?: unknown; epoch?: number } = {}): Promise<void> {
    expectString(file, 'checkpoint path');
    const epoch = options.epoch === undefined ? 0 : expectInteger(options.epoch, 'epoch', 0);
    const handle = this.live();
    const target = path.resolve(file);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    await call(() => handle.save(target, JSON.stringify(options.metadata ?? {}), epoch));
  }

  /** Every trainable parameter's values, flattened in order (what equivalence tests compare). */
  trainableParameters(): Promise<Float32Array> {
    const handle = this.live();
    return call(() => handle.trainableParameters());
  }

  /** Every BatchNorm layer's running mean and variance, flattened in order (what equivalence tests compare). */
  batchNormStatistics(): Promise<Float32Array> {
    const handle = this.live();
    return call(() => handle.batchNormStatistics());
  }

  info(): ModelInfo {
    return this.live().info();
  }

  /** @internal The native handle, for ProcessGroup.attach. */
  nativeHandle(): NativeModelHandle {
    return this.live();
  }

  /** Frees the model's memory once calls already running finish; later calls are rejected. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }
}

/**
 * Decoded images kept where a model runs (GPU memory, or host RAM for a CPU model): one uint8
 * [count, height, width, 3] block, filled by rows as images are decoded, from which train and
 * predict steps gather their batches by row index.
 */
export class ImageStore {
  private handle: NativeImageStoreHandle | null;
  readonly count: number;
  readonly height: number;
  readonly width: number;

  private constructor(handle: NativeImageStoreHandle) {
    this.handle = handle;
    ({ count: this.count, height: this.height, width: this.width } = handle.info());
  }

  /** Reserves count x height x width x 3 bytes on `device` ('cpu', 'cuda', 'cuda:N' or 'auto'). */
  static async create(options: { count: number; height: number; width: number; device?: string }): Promise<ImageStore> {
    expectInteger(options.count, 'count', 1, 2 ** 31 - 1);
    expectInteger(options.height, 'height', 1, 16384);
    expectInteger(options.width, 'width', 1, 16384);
    checkOptions({ device: options.device });
    const device = options.device ?? 'auto';
    return new ImageStore(await call(() => native().NativeImageStore.create(options.count, options.height, options.width, device)));
  }

  /** Copies batch image i into row rows[i]. */
  write(storeRows: ArrayLike<number>, batch: ImageBatch): Promise<void> {
    checkBatch(batch, 'batch');
    const rowArray = this.checkRows(storeRows);
    if (rowArray.length !== batch.shape[0]) throw invalid(`${batch.shape[0]} rows`, 'rows', storeRows);
    if (batch.shape[1] !== this.height || batch.shape[2] !== this.width) {
      throw invalid(`images of ${this.width}x${this.height}`, 'batch.shape', batch.shape);
    }
    const handle = this.live();
    return call(() => handle.write(rowArray, batch.data, batch.shape));
  }

  info(): ImageStoreInfo {
    return this.live().info();
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  /** Frees the memory once calls already running finish; later calls are rejected. */
  dispose(): void {
    this.handle?.dispose();
    this.handle = null;
  }

  /** @internal */
  live(): NativeImageStoreHandle {
    if (!this.handle) throw new Error('This image store was disposed; create it again to use it.');
    return this.handle;
  }

  /** @internal Rows as an Int32Array, each within 0..count-1. */
  checkRows(storeRows: ArrayLike<number>): Int32Array {
    if (storeRows.length < 1 || storeRows.length > 4096) throw invalid('1 to 4096 rows', 'rows', storeRows);
    return Int32Array.from(storeRows, (r, i) => expectInteger(r, `rows[${i}]`, 0, this.count - 1));
  }
}

function checkStainTarget(target: StainTarget, name: string): StainTarget {
  if (typeof target !== 'object' || target === null) throw invalid('{ method, values }', name, target);
  expectOneOf(target.method, `${name}.method`, STAIN_METHODS);
  const count = { none: 0, macenko: 8, reinhard: 6 }[target.method];
  if (!Array.isArray(target.values) || target.values.length !== count) throw invalid(`${count} numbers`, `${name}.values`, target.values);
  target.values.forEach((v, i) => expectNumber(v, `${name}.values[${i}]`));
  return { method: target.method, values: [...target.values] };
}

function checkPredictOptions(options: PredictOptions): PredictOptions {
  const out: PredictOptions = {};
  if (options.stain !== undefined) out.stain = checkStainTarget(options.stain, 'stain');
  if (options.perturbStrength !== undefined) out.perturbStrength = expectNumber(options.perturbStrength, 'perturbStrength', 0, 1);
  if (options.perturbSeed !== undefined) out.perturbSeed = expectInteger(options.perturbSeed, 'perturbSeed', 0, Number.MAX_SAFE_INTEGER);
  return out;
}

function checkDevice(device: string | undefined): string {
  checkOptions({ device });
  return device ?? 'cpu';
}

/**
 * Fits a stain target to every pixel of `batch` pooled (a reference image, or a sample of a
 * training split), after resizing to `imageSize` as the model's inputs are. Throws when the images
 * hold too little tissue.
 */
export function fitStainTarget(method: StainMethod, batch: ImageBatch, options: { imageSize?: number; device?: string } = {}): Promise<StainTarget> {
  expectOneOf(method, 'stain method', STAIN_METHODS);
  checkBatch(batch, 'batch');
  const size = options.imageSize === undefined ? 0 : expectInteger(options.imageSize, 'imageSize', 32, 4096);
  const device = checkDevice(options.device);
  return call(() => native().stainFit(method, batch.data, batch.shape, size, device));
}

/** Stain-normalised pixels (float NHWC in 0..1) and which images fell back unchanged. */
export async function normalizeStain(batch: ImageBatch, target: StainTarget, options: { device?: string } = {}):
  Promise<{ pixels: Float32Array; fallback: boolean[] }> {
  checkBatch(batch, 'batch');
  const checked = checkStainTarget(target, 'stain target');
  const device = checkDevice(options.device);
  const out = await call(() => native().stainNormalize(batch.data, batch.shape, checked, device));
  return { pixels: out.pixels, fallback: Array.from(out.fallback, (f) => f === 1) };
}

/** HED-jittered pixels (float NHWC in 0..1), as training's `augment.hedStrength` makes them. */
export function jitterHed(batch: ImageBatch, strength: number, seed: number, options: { device?: string } = {}): Promise<Float32Array> {
  checkBatch(batch, 'batch');
  expectNumber(strength, 'strength', 0, 1);
  expectInteger(seed, 'seed', 0, Number.MAX_SAFE_INTEGER);
  const device = checkDevice(options.device);
  return call(() => native().hedJitter(batch.data, batch.shape, strength, seed, device));
}

/**
 * Intra-op threads for tensor work (0: all cores); resolves to the count in force. Applied on the
 * compute thread, in order after the work already queued. At start-up HISTOSCOPE_THREADS does the same.
 */
export async function setThreads(threads: number): Promise<number> {
  expectInteger(threads, 'threads', 0, 1024);
  return call(() => native().setThreads(threads));
}

export function getThreads(): number {
  return native().getThreads();
}

export function cudaAvailable(): boolean {
  return native().cudaAvailable();
}

export function libtorchVersion(): string {
  return native().libtorchVersion;
}

export const DIST_BACKENDS = ['gloo', 'nccl'] as const;
export type DistBackend = (typeof DIST_BACKENDS)[number];

export interface ProcessGroupOptions {
  backend: DistBackend;
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** NCCL: the CUDA device index this rank drives. */
  localRank?: number;
  /** Rendezvous and collective timeout. */
  timeoutMs: number;
  /** Must be equal on every rank, or joining fails naming the rank that differs. */
  configHash: string;
}

/**
 * This process's membership of a data-parallel world (c10d: TCPStore rendezvous, Gloo on the CPU,
 * NCCL on CUDA). Every call is a collective: all ranks make the same calls in the same order.
 */
export class ProcessGroup {
  private handle: NativeProcessGroupHandle | null;

  private constructor(handle: NativeProcessGroupHandle, readonly rank: number, readonly worldSize: number) {
    this.handle = handle;
  }

  /** Whether this build has `backend` (Gloo needs gloo's headers at build time, NCCL a CUDA libtorch). */
  static backendAvailable(backend: DistBackend): boolean {
    return native().NativeProcessGroup.backendAvailable(expectOneOf(backend, 'backend', DIST_BACKENDS));
  }

  /** Joins the world; resolves when every rank has joined with the same world size and config hash. */
  static async create(o: ProcessGroupOptions): Promise<ProcessGroup> {
    expectOneOf(o.backend, 'backend', DIST_BACKENDS);
    expectString(o.masterAddr, 'MASTER_ADDR');
    expectInteger(o.masterPort, 'MASTER_PORT', 1, 65535);
    expectInteger(o.worldSize, 'WORLD_SIZE', 1, 65536);
    expectInteger(o.rank, 'RANK', 0, o.worldSize - 1);
    expectInteger(o.localRank ?? 0, 'LOCAL_RANK', 0, 65535);
    expectInteger(o.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
    expectString(o.configHash, 'configHash');
    const handle = await call(() => native().NativeProcessGroup.create({ ...o, localRank: o.localRank ?? 0 }));
    return new ProcessGroup(handle, o.rank, o.worldSize);
  }

  private live(): NativeProcessGroupHandle {
    if (!this.handle) throw new Error('This process group was closed.');
    return this.handle;
  }

  /** Every rank's bytes, in rank order. */
  allgatherBytes(bytes: Uint8Array): Promise<Buffer[]> {
    const handle = this.live();
    return call(() => handle.allgatherBytes(bytes));
  }

  /** `root`'s bytes on every rank (the others' argument is ignored). */
  broadcastBytes(bytes: Uint8Array, root = 0): Promise<Buffer> {
    expectInteger(root, 'root', 0, this.worldSize - 1);
    const handle = this.live();
    return call(() => handle.broadcastBytes(bytes, root));
  }

  barrier(): Promise<void> {
    const handle = this.live();
    return call(() => handle.barrier());
  }

  /**
   * Copies rank 0's weights to `model`; from then on its train steps are this rank's share of a
   * global batch. `syncBatchNorm`: BatchNorm layers in training mode take their statistics over the
   * global batch (torch.nn.SyncBatchNorm's scheme) instead of this rank's share; no effect in a world of 1.
   */
  attach(model: Model, options: { bucketBytes?: number; syncBatchNorm?: boolean } = {}): Promise<void> {
    const bucketBytes = expectInteger(options.bucketBytes ?? 25 * 2 ** 20, 'bucketBytes', 1);
    const syncBatchNorm = expectBoolean(options.syncBatchNorm ?? false, 'syncBatchNorm');
    const [handle, modelHandle] = [this.live(), model.nativeHandle()];
    return call(() => handle.attachModel(modelHandle, bucketBytes, syncBatchNorm));
  }

  /** This rank's part of a train step in which it has no images (a short last global batch). */
  stepWithoutImages(model: Model): Promise<{ loss: number }> {
    const [handle, modelHandle] = [this.live(), model.nativeHandle()];
    return call(() => handle.stepWithoutImages(modelHandle));
  }

  close(): void {
    this.handle?.close();
    this.handle = null;
  }
}
