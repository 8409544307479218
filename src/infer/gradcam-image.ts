// Grad-CAM as pictures: one native call on the image as the model sees it gives both the
// prediction and the class-activation map, so the label shown and the map shown can never come
// from two different computations. The map is then stretched to the picture's size, coloured with
// the evidence map (colormap.ts: transparent → teal → yellow, never H&E's hues) and laid over the
// original image; the heatmap is an RGBA PNG, so pages can lay it over the image themselves.
import sharp from 'sharp';

import type { CamMethod } from '../native';
import { applyEvidenceColormap } from './colormap';
import { type ImageWarning, inputWarnings } from './input-warnings';
import { batcherFor, type MicroBatchOptions } from './micro-batcher';
import { type DecodedImage, readImageSize } from '../data';
import { decodeForModel, ImageReadError, readPixels, type ReadOptions } from './model-input';
import type { LoadedModel } from './model-registry';
import { stretchMap } from '../eval/heatmap/cam-overlay';
import { blendOver } from './overlay';
import { type Prediction, toPrediction } from './prediction';

export const DEFAULT_OPACITY = 0.45;

export interface GradcamOptions extends ReadOptions {
  /** Class whose evidence is mapped; default: the predicted label (after the card's threshold). */
  targetClass?: 0 | 1;
  /** Grad-CAM (default) or Grad-CAM++. */
  method?: CamMethod;
  /** Heatmap weight in the overlay, 0..1 (default 0.45). */
  opacity?: number;
  /** Longest side of the pictures; default: the original image's size (at most 8192). */
  maxSide?: number;
  /** Also return the (resized) original image as PNG, for showing it beside the overlay. */
  includeImage?: boolean;
  /** Checked between steps: once it aborts (the client left), no further work starts. */
  signal?: AbortSignal;
  /** Settings of the model's micro-batcher, applied when it is first made. */
  microBatch?: Partial<MicroBatchOptions>;
}

export interface GradcamPictures {
  prediction: Prediction;
  targetClass: 0 | 1;
  method: CamMethod;
  /** Out-of-distribution warnings for the image (empty when it looks like the training images). */
  warnings: ImageWarning[];
  /** The map at the model's input size (0..1, row-major) and the pixels it explains, for faithfulness. */
  modelView: { cam: Float32Array; pixels: Uint8Array; size: number };
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  heatmapPng: Buffer;
  overlayPng: Buffer;
  imagePng?: Buffer;
}

/** The decoder's largest side. */
const MAX_SIDE = 8192;

function fitWithin(width: number, height: number, maxSide = MAX_SIDE): [number, number] {
  const limit = Math.min(maxSide, MAX_SIDE);
  const scale = Math.max(width, height) > limit ? limit / Math.max(width, height) : 1;
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/**
 * zlib level of each picture, encoded while the answer waits. Tissue (the overlay, the image)
 * carries sensor noise that deflate barely shrinks: on eight real 700×460 BreakHis overlays,
 * level 2 took 16.2 ms for 821 KB, stored (level 0) 3.2 ms for 945 KB, and adaptive filtering 22.5
 * ms for 555 KB (2-core Sapphire Rapids VM, session 6). 13 ms of every Grad-CAM answer for 13% of
 * bytes is the wrong trade for an interactive page, so those are stored. The heatmap is mostly
 * transparent and shrinks ~20× at level 2 for a few ms.
 */
const TISSUE_PNG_LEVEL = 0;
const HEATMAP_PNG_LEVEL = 2;

const png = (data: Uint8Array, width: number, height: number, channels: 3 | 4, compressionLevel: number): Promise<Buffer> =>
  sharp(data, { raw: { width, height, channels } }).png({ compressionLevel }).toBuffer();

/** The picture the maps are drawn over: the image at its own size, or scaled to `maxSide`. */
async function readPicture(input: string | Buffer, maxSide: number | undefined, read: ReadOptions): Promise<DecodedImage> {
  const original = await readImageSize(input, read).catch((err: Error) => {
    throw new ImageReadError(err.message);
  });
  const [width, height] = fitWithin(original.width, original.height, maxSide);
  return readPixels(input, { size: [width, height], fit: 'fill', ...read });
}

export async function renderGradcam(loaded: LoadedModel, input: string | Buffer, options: GradcamOptions = {}): Promise<GradcamPictures> {
  const opacity = options.opacity ?? DEFAULT_OPACITY;
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`Expected an opacity between 0 and 1 but received ${opacity}.`);
  const read = { limitInputPixels: options.limitInputPixels, name: options.name };
  // Steps that do not depend on each other overlap: both decodes (libuv threads), then the OOD
  // checks (main thread) while the compute thread runs the model.
  const [seen, picture] = await Promise.all([decodeForModel(loaded, input, read), readPicture(input, options.maxSide, read)]);
  options.signal?.throwIfAborted();
  const method = options.method ?? 'gradcam';
  // Concurrent requests for this model share one native call (micro-batcher.ts). By default the
  // map explains the label shown: the card's threshold picks it, in the same pass.
  const batcher = batcherFor(loaded.model, options.microBatch);
  const [warnings, cam] = await Promise.all([
    inputWarnings(loaded.card, input, seen, options.limitInputPixels),
    batcher.gradcam(seen, options.targetClass, options.signal, method, loaded.card.threshold),
  ]);
  const prediction = toPrediction(cam.probabilities, loaded.card, cam.stainFallback, loaded.precision);
  options.signal?.throwIfAborted();
  const { width, height } = picture;
  const heatmap = applyEvidenceColormap(stretchMap(cam, width, height));
  const overlay = blendOver(picture.data, heatmap, opacity);
  const [heatmapPng, overlayPng, imagePng] = await Promise.all([
    png(heatmap, width, height, 4, HEATMAP_PNG_LEVEL),
    png(overlay, width, height, 3, TISSUE_PNG_LEVEL),
    options.includeImage ? png(picture.data, width, height, 3, TISSUE_PNG_LEVEL) : Promise.resolve(undefined),
  ]);
  return {
    prediction, targetClass: cam.targetClass as 0 | 1, method, warnings, width, height,
    modelView: { cam: cam.cam, pixels: seen.data, size: seen.width },
    originalWidth: seen.originalWidth, originalHeight: seen.originalHeight,
    heatmapPng, overlayPng, ...(imagePng ? { imagePng } : {}),
  };
}
