// Checks on an image's shape alone: too few pixels to hold tissue at any magnification, a strip
// or extreme aspect ratio, and a size far from the training images'. The model squashes every
// image to its square input, so a 1400×920 image shows cells at half the size the model learnt:
// in effect another magnification.
import type { ImageWarning, TrainingImages } from './ood-types';

/** Smallest side below which an image cannot show tissue structure (the model sees 224 px). */
export const MIN_SIDE = 64;
/** Longest over shortest side above this is a strip, not a micrograph (BreakHis: 1.52). */
export const MAX_ASPECT = 4;
/** Each side may differ from the training images' by up to this factor. */
export const SIZE_FACTOR = 1.5;

export function geometryWarnings(width: number, height: number, training: TrainingImages): ImageWarning[] {
  const size = `${width}×${height}`;
  const trained = `${training.width}×${training.height}`;
  const short = Math.min(width, height);
  const aspect = Math.max(width, height) / Math.max(1, short);
  if (aspect > MAX_ASPECT) {
    return [{
      code: 'strip',
      message: `The image is ${size} pixels, a strip (sides ${aspect.toFixed(aspect < 100 ? 1 : 0)}:1), not a micrograph; ` +
        `${training.model} was trained on ${trained} images, so this answer means nothing.`,
    }];
  }
  if (short < MIN_SIDE) {
    return [{
      code: 'tiny',
      message: `The image is only ${size} pixels (less than ${MIN_SIDE} on a side), too small to show tissue; ` +
        `${training.model} was trained on ${trained} images. Upload the full-size image.`,
    }];
  }
  const far = (side: number, trainedSide: number): boolean => side > trainedSide * SIZE_FACTOR || side * SIZE_FACTOR < trainedSide;
  if (far(width, training.width) || far(height, training.height)) {
    return [{
      code: 'size',
      message: `The image is ${size} pixels; ${training.model} was trained on ${trained} images. It squashes every image to ` +
        'its input size, so tissue at another scale looks like another magnification. Upload the image at its original size.',
    }];
  }
  return [];
}
