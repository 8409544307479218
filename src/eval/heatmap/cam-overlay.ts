// A Grad-CAM map (0..1 floats at the model's input size) stretched to a picture's size, coloured
// with viridis and blended over it: the one way Histoscope draws a map over tissue, shared by the
// web/CLI pictures and the training run's gallery.
import sharp from 'sharp';

import { applyColormap } from './colormap';
import { blend, quantiseMap } from './overlay';

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

/** The viridis heatmap of `map` blended over `picture` at `opacity` (RGB, the picture's size). */
export async function camOverlay(map: CamMap, picture: RgbPicture, opacity: number): Promise<Uint8Array> {
  const stretched = await stretchMap(map, picture.width, picture.height);
  return blend(picture.data, applyColormap(stretched), opacity);
}
