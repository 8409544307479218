// Decides whether uploaded bytes are an image this server will decode, before any decoding:
// the type comes from the magic bytes (never the file name or Content-Type), and the pixel count
// from the header, so a small file declaring a gigapixel image is refused without allocating it.
import sharp from 'sharp';

import { sniffImageFormat } from '../data';
import { HttpError } from './http-error';

export const ACCEPTED_FORMATS = ['png', 'jpeg'] as const;

export interface CheckedImage {
  format: (typeof ACCEPTED_FORMATS)[number];
  width: number;
  height: number;
}

function looksLikeText(bytes: Buffer): boolean {
  const head = bytes.subarray(0, 512);
  return head.length > 0 && head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128);
}

export async function checkImage(image: Buffer | undefined, limitInputPixels: number): Promise<CheckedImage> {
  if (image === undefined) {
    throw new HttpError(400, 'No image was uploaded. Choose a PNG or JPEG file (form field "image"), or send it as the raw request body.');
  }
  if (image.length === 0) throw new HttpError(400, 'The uploaded file is empty (0 bytes). Choose the image file again.');
  const format = sniffImageFormat(image);
  if (format !== 'png' && format !== 'jpeg') {
    const what = format ? `a ${format.toUpperCase()} image` : looksLikeText(image) ? 'a text file' : 'not an image this server recognises';
    throw new HttpError(415, `The uploaded file is ${what}, judged by its content, not its name. Upload a PNG or JPEG image.`);
  }
  let width: number;
  let height: number;
  try {
    // Header only: sharp reads the dimensions without decoding pixels.
    const meta = await sharp(image, { limitInputPixels: false }).metadata();
    width = meta.autoOrient?.width ?? meta.width ?? 0;
    height = meta.autoOrient?.height ?? meta.height ?? 0;
  } catch {
    throw new HttpError(422, `The uploaded ${format.toUpperCase()} file is damaged: its header cannot be read. Export the image again and retry.`);
  }
  if (!(width > 0 && height > 0)) {
    throw new HttpError(422, `The uploaded ${format.toUpperCase()} file is damaged: it declares no image size. Export the image again and retry.`);
  }
  if (width * height > limitInputPixels) {
    const mp = (n: number): string => `${Math.round(n / 1e5) / 10} megapixels`;
    throw new HttpError(413, `The image is ${width} × ${height} pixels (${mp(width * height)}), above this server's limit of ${mp(limitInputPixels)}. ` +
      'Downscale it first; BreakHis images are 700 × 460.');
  }
  return { format, width, height };
}
