// The pictures of one gallery image: its overlay at a modest size (the individual file people open)
// and JPEG thumbnails of the image and the overlay for the sheet. JPEG, not PNG: tissue is
// photographic, and a run's whole gallery must stay around a megabyte.
import sharp from 'sharp';
import { decodeImage } from '../../data';
import { camOverlay, type CamMap } from '../heatmap/cam-overlay';

/** Longest side of the individual overlay files. */
export const OVERLAY_SIDE = 352;
/** Longest side of the thumbnails on the sheets. */
export const THUMB_SIDE = 176;
const QUALITY = 80;

export interface GalleryPictures {
  overlayJpeg: Buffer;
  thumbOriginalJpeg: Buffer;
  thumbOverlayJpeg: Buffer;
  thumbWidth: number;
  thumbHeight: number;
}

/** Longest side `side` (never larger than the original unless `enlarge`). */
function fit(width: number, height: number, side: number, enlarge = false): [number, number] {
  const scale = enlarge ? side / Math.max(width, height) : Math.min(1, side / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

const jpeg = (data: Uint8Array, width: number, height: number, size?: [number, number]): Promise<Buffer> => {
  const image = sharp(data, { raw: { width, height, channels: 3 } });
  return (size ? image.resize(size[0], size[1], { fit: 'fill' }) : image).jpeg({ quality: QUALITY, mozjpeg: true }).toBuffer();
};

/** `file` (original width×height) with `map` over it at `opacity`. */
export async function renderGalleryPictures(file: string, original: { width: number; height: number }, map: CamMap, opacity: number): Promise<GalleryPictures> {
  const [width, height] = fit(original.width, original.height, OVERLAY_SIDE);
  const picture = await decodeImage(file, { size: [width, height], fit: 'fill' });
  const overlay = camOverlay(map, picture, opacity);
  // Thumbnails all have one size, so the sheet's grid stays regular for small images too.
  const [thumbWidth, thumbHeight] = fit(width, height, THUMB_SIDE, true);
  const thumb: [number, number] = [thumbWidth, thumbHeight];
  const [overlayJpeg, thumbOriginalJpeg, thumbOverlayJpeg] = await Promise.all([
    jpeg(overlay, width, height), jpeg(picture.data, width, height, thumb), jpeg(overlay, width, height, thumb),
  ]);
  return { overlayJpeg, thumbOriginalJpeg, thumbOverlayJpeg, thumbWidth, thumbHeight };
}
