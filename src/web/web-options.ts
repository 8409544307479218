// The web server's settings in one typed defaults object; tests and `histoscope serve` override.
import { DEFAULT_MAX_INPUT_PIXELS, MAX_INPUT_BYTES } from '../data/image-input-policy';
import type { ModelRegistry } from '../infer';

export interface WebOptions {
  /** Where models/<mag>/ live; ignored when `registry` is given. */
  modelsDir: string;
  /** Shared registry (tests pass one they dispose themselves). */
  registry?: ModelRegistry;
  /** Largest upload accepted, in bytes. */
  maxUploadBytes: number;
  /** Bytes all uploads in flight (read, waiting, analysed) may hold together; beyond it, 429. */
  maxUploadBytesInFlight: number;
  /** Largest image accepted, in pixels, checked from the header before decoding. */
  limitInputPixels: number;
  /** Analyses running at once, and how many may wait before requests get 429. */
  concurrency: number;
  maxWaiting: number;
  /** Whole-request deadline (upload + queue + analysis). */
  requestTimeoutMs: number;
  /** Longest side of the pictures returned (image and overlay). */
  pictureMaxSide: number;
  /** Heatmap weight of the overlay. */
  opacity: number;
  log: (message: string) => void;
}

export const DEFAULT_WEB_OPTIONS: Omit<WebOptions, 'registry'> = {
  modelsDir: 'models',
  maxUploadBytes: MAX_INPUT_BYTES,
  // Eight full-size uploads; BreakHis images (under 1 MB) fill the queue long before this.
  maxUploadBytesInFlight: 8 * MAX_INPUT_BYTES,
  limitInputPixels: DEFAULT_MAX_INPUT_PIXELS,
  concurrency: 1,
  maxWaiting: 16,
  requestTimeoutMs: 60_000,
  pictureMaxSide: 1024,
  opacity: 0.45,
  log: (message) => process.stderr.write(`[histoscope web] ${message}\n`),
};
