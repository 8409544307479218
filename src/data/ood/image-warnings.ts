// Out-of-distribution warnings for one image: shape (from the header), transparency (only images
// with an alpha channel pay for reading it) and content (from the pixels the model sees, at
// 224 × 224 squashed like training; other model sizes pay for one more decode). They
// warn; they never refuse an image that decodes. A degenerate or transparent image gets only its
// shape or transparency warning: judging the colours of what the model sees then means nothing.
import sharp from 'sharp';

import { decodeImage, orientedSize } from '../decode-image';
import { contentWarnings } from './content-checks';
import { geometryWarnings } from './geometry-checks';
import type { ImageWarning, RgbPixels, TrainingImages } from './ood-types';
import { stainFeatures } from './stain-features';

/**
 * Side of the square the content thresholds were tuned at (the study's model input). Pixels of
 * another size (a model trained at 64 px) are decoded again at this size for the content checks.
 */
export const ANALYSIS_SIZE = 224;

/** Share of (mostly) transparent pixels above which an image is called transparent. */
export const MAX_TRANSPARENT = 0.5;
/** Side of the alpha thumbnail: enough to measure a share, cheap to decode. */
const ALPHA_SIDE = 64;

async function transparentShare(input: string | Buffer, limitInputPixels: number | undefined): Promise<number> {
  const alpha = await sharp(input, { limitInputPixels: limitInputPixels ?? false })
    .ensureAlpha().extractChannel(3).resize(ALPHA_SIDE, ALPHA_SIDE, { fit: 'fill' }).raw().toBuffer();
  let clear = 0;
  for (const a of alpha) if (a < 128) clear++;
  return clear / alpha.length;
}

export interface ImageWarningOptions {
  training: TrainingImages;
  /** Same limit as the decode that made `pixels`. */
  limitInputPixels?: number;
}

/**
 * Warnings for `input` (the bytes or file that were decoded) given `pixels`, its decode at the
 * model's input size. Reads the header again (cheap) for the original size and the alpha channel.
 */
export async function imageWarnings(input: string | Buffer, pixels: RgbPixels, options: ImageWarningOptions): Promise<ImageWarning[]> {
  const meta = await sharp(input, { limitInputPixels: options.limitInputPixels ?? false }).metadata();
  const { width, height } = orientedSize(meta);
  const shape = geometryWarnings(width, height, options.training);
  if (shape.some((w) => w.code !== 'size')) return shape;
  if (meta.hasAlpha) {
    const share = await transparentShare(input, options.limitInputPixels);
    if (share > MAX_TRANSPARENT) {
      return [...shape, {
        code: 'transparent',
        message: `${Math.round(100 * share)}% of the image is transparent; the model sees those parts as white, not as tissue.`,
      }];
    }
  }
  const seen = pixels.width === ANALYSIS_SIZE && pixels.height === ANALYSIS_SIZE ? pixels
    : await decodeImage(input, { size: ANALYSIS_SIZE, fit: 'fill', limitInputPixels: options.limitInputPixels });
  return [...shape, ...contentWarnings(stainFeatures(seen))];
}
