// Pixel arithmetic for Grad-CAM pictures: the 0..1 map quantised to bytes, and a heatmap blended
// over the tissue: with one opacity everywhere (blend), or weighted by the heatmap's own alpha
// (blendOver: the evidence map, transparent where there is no evidence, so the tissue shows).

/** One 0..1 value → a 0..255 byte (clamped; NaN counts as 0). */
export function quantise(v: number): number {
  return v > 0 ? (v >= 1 ? 255 : Math.round(v * 255)) : 0;
}

/** 0..1 floats → 0..255 bytes (values outside 0..1 or NaN are clamped; NaN counts as 0). */
export function quantiseMap(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = quantise(values[i]);
  return out;
}

/** `opacity`·heatmap + (1 − `opacity`)·image, per channel, for two RGB buffers of one size. */
export function blend(image: Uint8Array, heatmap: Uint8Array, opacity: number): Uint8Array {
  if (image.length !== heatmap.length) throw new Error(`Expected the image and heatmap to have one size but they hold ${image.length} and ${heatmap.length} bytes.`);
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`Expected an opacity between 0 and 1 but received ${opacity}.`);
  const out = new Uint8Array(image.length);
  const keep = 1 - opacity;
  for (let i = 0; i < image.length; i++) out[i] = Math.round(keep * image[i] + opacity * heatmap[i]);
  return out;
}

/** An RGBA layer over an RGB image, each pixel at `opacity` × its alpha (the "over" operator). */
export function blendOver(image: Uint8Array, layer: Uint8Array, opacity: number): Uint8Array {
  if (image.length / 3 !== layer.length / 4) throw new Error(`Expected the image and heatmap to have one size but they hold ${image.length / 3} and ${layer.length / 4} pixels.`);
  if (!(opacity >= 0 && opacity <= 1)) throw new RangeError(`Expected an opacity between 0 and 1 but received ${opacity}.`);
  // The layer's weight depends on its alpha only: 256 values in 1/65536ths, computed once per
  // call; integer arithmetic rounds like Math.round to within 1/256 of a level.
  const weight = new Uint32Array(256);
  for (let alpha = 0; alpha < 256; alpha++) weight[alpha] = Math.round(((opacity * alpha) / 255) * 65536);
  const out = new Uint8Array(image.length);
  for (let i = 0, j = 0; i < out.length; i += 3, j += 4) {
    const w = weight[layer[j + 3]];
    const keep = 65536 - w;
    out[i] = (image[i] * keep + layer[j] * w + 32768) >>> 16;
    out[i + 1] = (image[i + 1] * keep + layer[j + 1] * w + 32768) >>> 16;
    out[i + 2] = (image[i + 2] * keep + layer[j + 2] * w + 32768) >>> 16;
  }
  return out;
}
