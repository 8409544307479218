// The web server's settings in one typed defaults object; tests and `histoscope serve` override.
import { DEFAULT_MAX_INPUT_PIXELS, MAX_INPUT_BYTES } from '../data/image-input-policy';
import { DEFAULT_RESULT_STORE, type ResultStoreOptions } from './result-store';
import { DEFAULT_MICRO_BATCH, type MicroBatchOptions, type ModelRegistry } from '../infer';
import type { Precision } from '../native';

export interface WebOptions {
  /** Where models/<mag>/ live; ignored when `registry` is given. */
  modelsDir: string;
  /** Shared registry (tests pass one they dispose themselves). */
  registry?: ModelRegistry;
  /** Precision the models run in (ignored when `registry` is given); default: each checkpoint's own. */
  precision?: Precision;
  /** Largest upload accepted, in bytes. */
  maxUploadBytes: number;
  /** Bytes all uploads in flight (read, waiting, analysed) may hold together; beyond it, 429. */
  maxUploadBytesInFlight: number;
  /** Largest image accepted, in pixels, checked from the header before decoding. */
  limitInputPixels: number;
  /**
   * Analyses running at once, and how many may wait before requests get 429. Running analyses
   * decode and encode in parallel and share native calls through the model's micro-batcher.
   */
  concurrency: number;
  maxWaiting: number;
  /** Concurrent predictions and Grad-CAM maps gathered into one native call. */
  microBatch: MicroBatchOptions;
  /** Kept results (/results/:id): time-to-live, bounds, and an opt-in folder that keeps them. */
  results: Partial<ResultStoreOptions>;
  /** Whole-request deadline (upload + queue + analysis). */
  requestTimeoutMs: number;
  /** Longest side of the pictures returned (image and overlay). */
  pictureMaxSide: number;
  /** Heatmap weight of the overlay. */
  opacity: number;
  log: (message: string) => void;
}

export const DEFAULT_WEB_OPTIONS: Omit<WebOptions, 'registry' | 'precision'> = {
  modelsDir: 'models',
  maxUploadBytes: MAX_INPUT_BYTES,
  // Eight full-size uploads; BreakHis images (under 1 MB) fill the queue long before this.
  maxUploadBytesInFlight: 8 * MAX_INPUT_BYTES,
  limitInputPixels: DEFAULT_MAX_INPUT_PIXELS,
  // Two micro-batches: while one runs in the model, the next one's uploads are decoded and
  // checked (bench:web, 16 clients on 2 cores: 19.5 req/s against 17.9 with one batch's worth).
  concurrency: 2 * DEFAULT_MICRO_BATCH.maxBatch,
  maxWaiting: 16,
  microBatch: DEFAULT_MICRO_BATCH,
  results: DEFAULT_RESULT_STORE,
  requestTimeoutMs: 60_000,
  pictureMaxSide: 1024,
  opacity: 0.45,
  log: (message) => process.stderr.write(`[histoscope web] ${message}\n`),
};
