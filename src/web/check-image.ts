// Decides whether uploaded bytes are an image this server will decode, before any decoding, by
// the input policy `histoscope predict` also uses (src/data/image-input-policy.ts): the type comes
// from the magic bytes (never the file name or Content-Type), and the pixel count from the header,
// so a small file declaring a gigapixel image is refused without allocating it.
import { type AcceptedImageFormat, checkImageInput, megabytes, megapixels } from '../data/image-input-policy';
import { HttpError } from './http-error';

export interface CheckedImage {
  format: AcceptedImageFormat;
  width: number;
  height: number;
}

export async function checkImage(image: Buffer | undefined, limitInputPixels: number): Promise<CheckedImage> {
  if (image === undefined) {
    throw new HttpError(400, 'No image was uploaded. Choose a PNG or JPEG file (form field "image"), or send it as the raw request body.');
  }
  const verdict = await checkImageInput(image, { maxBytes: Infinity, maxPixels: limitInputPixels }); // bytes were capped while read
  if (verdict.ok) return verdict;
  switch (verdict.problem) {
    case 'empty':
      throw new HttpError(400, 'The uploaded file is empty (0 bytes). Choose the image file again.');
    case 'too-large':
      throw new HttpError(413, `The upload is larger than this server's limit of ${megabytes(verdict.maxBytes)}. Send a smaller image.`);
    case 'not-accepted':
      throw new HttpError(415, `The uploaded file is ${verdict.what}, judged by its content, not its name. Upload a PNG or JPEG image.`);
    case 'unreadable-header':
      throw new HttpError(422, `The uploaded ${verdict.format.toUpperCase()} file is damaged: its header cannot be read. Export the image again and retry.`);
    case 'no-size':
      throw new HttpError(422, `The uploaded ${verdict.format.toUpperCase()} file is damaged: it declares no image size. Export the image again and retry.`);
    case 'too-many-pixels':
      throw new HttpError(413, `The image is ${verdict.width} × ${verdict.height} pixels (${megapixels(verdict.width * verdict.height)}), ` +
        `above this server's limit of ${megapixels(verdict.maxPixels)}. Downscale it first; BreakHis images are 700 × 460.`);
  }
}
