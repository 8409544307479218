// Dynamic micro-batching for one loaded model: predictions and Grad-CAM maps asked for at about
// the same time (the web server's concurrent requests) are gathered into one native call each.
// A lone request waits at most `maxWaitMs` for company (0: only for requests made in the same
// turn of the event loop); while a call is running, new requests gather until it ends (the compute thread is busy anyway), and a batch never exceeds `maxBatch`
// images. Every caller gets its own result, or its own error: a request that is invalid fails
// alone before it joins a batch, and when a batched call fails, its images are run one by one so
// that only the image that caused it fails.
import type { CamMethod, GradCamResult, Model } from '../native';
import type { RgbImage } from './dihedral';
import { stack } from './predict-images';

export interface MicroBatchOptions {
  /** Most images in one native call. */
  maxBatch: number;
  /**
   * Longest a request waits for others when the model is idle, in milliseconds; 0 gathers only the
   * requests made in the same turn of the event loop (a lone request pays no wait).
   */
  maxWaitMs: number;
}

/** One image's prediction. */
export interface ImageAnswer {
  probabilities: number[];
  stainFallback: boolean;
}

// No wait by default: under load the model is rarely idle and requests gather during its calls;
// without load, waiting would only add to each request's latency.
export const DEFAULT_MICRO_BATCH: MicroBatchOptions = { maxBatch: 8, maxWaitMs: 0 };

interface Pending<T> {
  image: RgbImage;
  target?: number;
  signal?: AbortSignal;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/** Native calls made and images they carried, for tests and the bench. */
export interface MicroBatchStats {
  calls: number;
  images: number;
  largestBatch: number;
}

type Run<T> = (images: RgbImage[], targets: (number | undefined)[]) => Promise<T[]>;

/** One queue of like requests (one kind, one image size). */
class Lane<T> {
  private pending: Pending<T>[] = [];
  /** Cancels the pending flush of a lone request's wait, when one is set. */
  private timer: (() => void) | undefined;

  constructor(private readonly owner: MicroBatcher, private readonly run: Run<T>) {}

  add(item: Pending<T>): void {
    this.pending.push(item);
    if (this.pending.length >= this.owner.options.maxBatch) this.flush();
    else if (!this.timer && this.owner.inFlight === 0) this.timer = this.flushLater(this.owner.options.maxWaitMs);
  }

  /** Called when the model's running call ends: what gathered meanwhile goes next. */
  idle(): void {
    if (this.pending.length > 0 && !this.timer) this.flush();
  }

  private flushLater(ms: number): () => void {
    if (ms > 0) {
      const timeout = setTimeout(() => this.flush(), ms);
      return () => clearTimeout(timeout);
    }
    const immediate = setImmediate(() => this.flush());
    return () => clearImmediate(immediate);
  }

  flush(): void {
    this.timer?.();
    this.timer = undefined;
    const batch = this.pending.splice(0, this.owner.options.maxBatch).filter((p) => {
      if (!p.signal?.aborted) return true;
      p.reject(p.signal.reason);
      return false;
    });
    // What is left over goes when this call ends (idle), or as soon as it fills a batch (add).
    if (batch.length > 0) void this.owner.execute(() => this.settle(batch));
  }

  private async settle(batch: Pending<T>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((p) => p.image), batch.map((p) => p.target));
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
      // Find the culprit: each image alone, so the others still get their answers.
      for (const p of batch) {
        try {
          p.resolve((await this.run([p.image], [p.target]))[0]);
        } catch (own) {
          p.reject(own);
        }
      }
    }
  }
}

export class MicroBatcher {
  readonly options: MicroBatchOptions;
  readonly stats: MicroBatchStats = { calls: 0, images: 0, largestBatch: 0 };
  inFlight = 0;
  private readonly lanes = new Map<string, Lane<unknown>>();

  constructor(private readonly model: Model, options: Partial<MicroBatchOptions> = {}) {
    this.options = { ...DEFAULT_MICRO_BATCH, ...options };
    if (!(Number.isInteger(this.options.maxBatch) && this.options.maxBatch >= 1)) {
      throw new RangeError(`Expected a whole number of at least 1 for maxBatch but received ${this.options.maxBatch}.`);
    }
    if (!(this.options.maxWaitMs >= 0 && this.options.maxWaitMs <= 1000)) {
      throw new RangeError(`Expected milliseconds between 0 and 1000 for maxWaitMs but received ${this.options.maxWaitMs}.`);
    }
  }

  /** Softmax probabilities of one image (in class order), and whether the stain normaliser left it unchanged. */
  predict(image: RgbImage, signal?: AbortSignal): Promise<ImageAnswer> {
    return this.enqueue('predict', image, undefined, signal, async (images) => {
      this.count(images.length);
      const r = await this.model.predictDetailed(stack(images));
      return r.probabilities.map((probabilities, i) => ({ probabilities, stainFallback: r.stainFallback[i] }));
    });
  }

  /**
   * Grad-CAM (or Grad-CAM++) of one image for `targetClass` (undefined: the predicted class, by
   * `threshold` on P(class 1) when given, as Model.gradcamBatch). Requests with different
   * thresholds never share a call.
   */
  gradcam(image: RgbImage, targetClass?: number, signal?: AbortSignal, method: CamMethod = 'gradcam', threshold?: number): Promise<GradCamResult> {
    return this.enqueue(`${method} ${threshold ?? 'argmax'}`, image, targetClass, signal, async (images, targets) => {
      this.count(images.length);
      return this.model.gradcamBatch(stack(images), { targetClasses: targets, method, threshold });
    });
  }

  private count(images: number): void {
    this.stats.calls += 1;
    this.stats.images += images;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, images);
  }

  private enqueue<T>(kind: string, image: RgbImage, target: number | undefined, signal: AbortSignal | undefined, run: Run<T>): Promise<T> {
    const { width, height, data } = image ?? {};
    if (!(data instanceof Uint8Array) || !(width > 0) || !(height > 0) || data.length !== width * height * 3) {
      return Promise.reject(new TypeError(`Expected an RGB image of width × height × 3 bytes for the image but received ${data?.length ?? 'nothing'} bytes for ${width}×${height}.`));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const key = `${kind} ${width}x${height}`;
    let lane = this.lanes.get(key) as Lane<T> | undefined;
    if (!lane) {
      lane = new Lane<T>(this, run);
      this.lanes.set(key, lane as Lane<unknown>);
    }
    const queued = lane;
    return new Promise<T>((resolve, reject) => queued.add({ image, target, signal, resolve, reject }));
  }

  /** Runs one batch; when the model falls idle, the lanes that gathered requests go next. */
  async execute(job: () => Promise<unknown>): Promise<void> {
    this.inFlight += 1;
    try {
      await job();
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const lane of this.lanes.values()) lane.idle();
    }
  }
}

const batchers = new WeakMap<Model, MicroBatcher>();

/** The one batcher of a model (created on first use, with default settings unless given). */
export function batcherFor(model: Model, options?: Partial<MicroBatchOptions>): MicroBatcher {
  let batcher = batchers.get(model);
  if (!batcher) {
    batcher = new MicroBatcher(model, options);
    batchers.set(model, batcher);
  }
  return batcher;
}
