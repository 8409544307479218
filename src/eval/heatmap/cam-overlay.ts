// A Grad-CAM map (0..1 floats at the model's input size) stretched to a picture's size, coloured
// with the evidence map (colormap.ts: transparent where there is no evidence, then teal → yellow,
// never H&E's hues) and laid over it: how the training run's gallery draws a map over tissue, in
// the colours the web and CLI pictures use.
import sharp from 'sharp';

import { applyEvidenceColormap } from './colormap';
import { blendOver, quantiseMap } from './overlay';

export interface CamMap {
  /** height*width values in 0..1, row-major. */
  cam: Float32Array;
  width: number;
  height: number;
}

export interface RgbPicture {
  /** width*height*3 bytes, RGB, row-major. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** The map resized (bicubic) to `width`×`height`, as 0..255 bytes. */
export async function stretchMap(map: CamMap, width: number, height: number): Promise<Buffer> {
  return sharp(quantiseMap(map.cam), { raw: { width: map.width, height: map.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .extractChannel(0)
    .raw()
    .toBuffer();
}

/** The evidence heatmap of `map` over `picture`, each pixel at `opacity` × its evidence (RGB, the picture's size). */
export async function camOverlay(map: CamMap, picture: RgbPicture, opacity: number): Promise<Uint8Array> {
  const stretched = await stretchMap(map, picture.width, picture.height);
  return blendOver(picture.data, applyEvidenceColormap(stretched), opacity);
}
