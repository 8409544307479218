// Any image sharp reads → RGB uint8 at the model's size. Used by training (file paths) and by
// the web UI (uploaded buffers), so errors are sentences that name the file or the upload.
import * as os from 'node:os';
import sharp, { type Metadata } from 'sharp';
import { expectInteger, expectOneOf, invalid } from '../util/expect';

/** `fill` squashes to the square (what the study did); `cover` resizes the short side and centre-crops. */
export type ResizeFit = 'fill' | 'cover';

export interface DecodeOptions {
  /** Output side in pixels (square) or [width, height]; default 224. */
  size?: number | [number, number];
  fit?: ResizeFit;
  /** Guard against decompression bombs; default 100 megapixels. */
  limitInputPixels?: number;
  /** How errors name a Buffer input (default "The uploaded file"). */
  name?: string;
}

export interface DecodedImage {
  /** width*height*3 bytes, RGB, row-major (HWC). */
  data: Buffer;
  width: number;
  height: number;
  /** Size after EXIF orientation, before resizing. */
  originalWidth: number;
  originalHeight: number;
}

/**
 * libvips threads per image, set deliberately: with `concurrency` images decoding at once on a
 * machine of N cores, each gets N / concurrency threads (1 at the default of one decode per core),
 * so decodes do not oversubscribe the cores the compute thread needs. Process-wide (sharp's own
 * setting); returns the value set.
 */
export function shareCoresBetweenDecodes(concurrency: number): number {
  return sharp.concurrency(Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, concurrency))));
}

export const DEFAULT_IMAGE_SIZE = 224;
export const DEFAULT_LIMIT_INPUT_PIXELS = 100_000_000;

function checkSize(size: number | [number, number]): [number, number] {
  const [w, h] = typeof size === 'number' ? [size, size] : size;
  for (const v of [w, h]) {
    expectInteger(v, 'image size', 1, 8192);
  }
  return [w, h];
}

function explain(input: string | Buffer, name: string | undefined, err: Error, limit: number): Error {
  const subject = typeof input === 'string' ? `The file ${input}` : (name ?? 'The uploaded file');
  const detail = err.message.split('\n')[0];
  if (/pixel limit/i.test(detail)) {
    return new Error(`${subject} is larger than the pixel limit of ${(limit / 1e6).toFixed(limit < 1e6 ? 3 : 0)} megapixels (${detail}).`);
  }
  if (/missing|no such file|ENOENT/i.test(detail)) return new Error(`${subject} does not exist (${detail}).`);
  return new Error(`${subject} is not an image sharp can read (${detail}).`);
}

/** Width and height after EXIF orientation, from a header's metadata. */
export function orientedSize(meta: Metadata): { width: number; height: number } {
  return { width: meta.autoOrient?.width ?? meta.width ?? 0, height: meta.autoOrient?.height ?? meta.height ?? 0 };
}

/** What decodeImage would report as the original size, with its errors; reads the header only. */
export async function readImageSize(input: string | Buffer, options: Pick<DecodeOptions, 'limitInputPixels' | 'name'> = {}): Promise<{ width: number; height: number }> {
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  try {
    return orientedSize(await sharp(input, { limitInputPixels: limit, failOn: 'truncated' }).metadata());
  } catch (err) {
    throw explain(input, options.name, err as Error, limit);
  }
}

export async function decodeImage(input: string | Buffer, options: DecodeOptions = {}): Promise<DecodedImage> {
  const [width, height] = checkSize(options.size ?? DEFAULT_IMAGE_SIZE);
  const fit = options.fit ?? 'fill';
  expectOneOf(fit, 'fit', ['fill', 'cover'] as const);
  const limit = options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  expectInteger(limit, 'pixel limit', 1);
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) throw invalid('file path or Buffer', 'image', input);
  if (Buffer.isBuffer(input) && input.length === 0) throw new Error(`${options.name ?? 'The uploaded file'} is empty.`);
  try {
    const image = sharp(input, { limitInputPixels: limit, failOn: 'truncated' });
    const { width: originalWidth, height: originalHeight } = orientedSize(await image.metadata());
    const data = await image
      .rotate() // applies EXIF orientation
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb') // greyscale → 3 channels, 16-bit → 8-bit
      .resize(width, height, { fit, position: 'centre' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
    if (data.length !== width * height * 3) throw new Error(`decoded to ${data.length} bytes, expected ${width * height * 3}`);
    return { data, width, height, originalWidth, originalHeight };
  } catch (err) {
    throw explain(input, options.name, err as Error, limit);
  }
}
