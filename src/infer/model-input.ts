// Decodes an image exactly as the model was trained to see it: the square side from the
// checkpoint, squashed to it ("fill", as training's BatchLoader does). Decoding failures become
// ImageReadError, so callers can tell a bad image from a failing model.
import { decodeImage, type DecodedImage, type DecodeOptions, type ResizeFit } from '../data';
import type { LoadedModel } from './model-registry';

export interface ReadOptions {
  /** Largest image accepted, in pixels (sharp checks it from the header, before decoding). */
  limitInputPixels?: number;
  /** How errors name a Buffer input, e.g. "The uploaded file". */
  name?: string;
}

/** The input could not be decoded as an image (missing, damaged, not an image, too many pixels). */
export class ImageReadError extends Error {
  override name = 'ImageReadError';
}

/** Training squashes every image to the square (BatchLoader's 'fill'); no recipe chooses otherwise. */
export const MODEL_FIT: ResizeFit = 'fill';

/** decodeImage with its failures typed as ImageReadError. */
export async function readPixels(input: string | Buffer, options: DecodeOptions): Promise<DecodedImage> {
  try {
    return await decodeImage(input, options);
  } catch (err) {
    throw new ImageReadError((err as Error).message);
  }
}

export function decodeForModel(loaded: LoadedModel, input: string | Buffer, options: ReadOptions = {}): Promise<DecodedImage> {
  return readPixels(input, { size: loaded.imageSize, fit: MODEL_FIT, ...options });
}
