// The one rule for images that come from outside (web uploads and `histoscope predict` inputs):
// typed by their magic bytes, never by name; only PNG and JPEG; at most MAX_INPUT_BYTES; at most
// DEFAULT_MAX_INPUT_PIXELS pixels, read from the header before any pixel is decoded. Callers word
// the refusal for their audience (an HTTP status and sentence, or a CLI error row).
import sharp from 'sharp';

import { orientedSize } from './decode-image';
import { type ImageFormat, sniffImageFormat } from './image-signature';

export const ACCEPTED_IMAGE_FORMATS = ['png', 'jpeg'] as const;
export type AcceptedImageFormat = (typeof ACCEPTED_IMAGE_FORMATS)[number];

/** Largest input, in bytes (BreakHis PNGs are under 1 MB). */
export const MAX_INPUT_BYTES = 20 * 1024 * 1024;
/** Largest input, in pixels (BreakHis images are 700 × 460 = 0.3 megapixels). */
export const DEFAULT_MAX_INPUT_PIXELS = 40_000_000;

export type ImageInputVerdict =
  | { ok: true; format: AcceptedImageFormat; width: number; height: number }
  | { ok: false; problem: 'empty' }
  | { ok: false; problem: 'too-large'; bytes: number; maxBytes: number }
  | { ok: false; problem: 'not-accepted'; format: ImageFormat | undefined; what: string }
  | { ok: false; problem: 'unreadable-header' | 'no-size'; format: AcceptedImageFormat }
  | { ok: false; problem: 'too-many-pixels'; format: AcceptedImageFormat; width: number; height: number; maxPixels: number };

export interface InputLimits {
  maxBytes?: number;
  maxPixels?: number;
}

function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 512);
  return head.length > 0 && head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128);
}

/** "a GIF image", "a text file" or "not an image this program recognises": what the bytes are. */
function describeContent(bytes: Buffer, format: ImageFormat | undefined): string {
  if (format) return `a ${format.toUpperCase()} image`;
  const head = bytes.subarray(0, 256).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'an SVG drawing';
  return looksLikeText(bytes) ? 'a text file' : 'not an image this program recognises';
}

export function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
}

export function megapixels(n: number): string {
  return `${Math.round(n / 1e5) / 10} megapixels`;
}

/** Checks bytes against the policy without decoding pixels. */
export async function checkImageInput(bytes: Buffer, limits: InputLimits = {}): Promise<ImageInputVerdict> {
  const maxBytes = limits.maxBytes ?? MAX_INPUT_BYTES;
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_INPUT_PIXELS;
  if (bytes.length === 0) return { ok: false, problem: 'empty' };
  if (bytes.length > maxBytes) return { ok: false, problem: 'too-large', bytes: bytes.length, maxBytes };
  const sniffed = sniffImageFormat(bytes);
  if (sniffed !== 'png' && sniffed !== 'jpeg') return { ok: false, problem: 'not-accepted', format: sniffed, what: describeContent(bytes, sniffed) };
  const format: AcceptedImageFormat = sniffed;
  let width: number;
  let height: number;
  try {
    // Header only: sharp reads the dimensions without decoding pixels.
    ({ width, height } = orientedSize(await sharp(bytes, { limitInputPixels: false }).metadata()));
  } catch {
    return { ok: false, problem: 'unreadable-header', format };
  }
  if (!(width > 0 && height > 0)) return { ok: false, problem: 'no-size', format };
  if (width * height > maxPixels) return { ok: false, problem: 'too-many-pixels', format, width, height, maxPixels };
  return { ok: true, format, width, height };
}
