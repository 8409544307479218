// The eight symmetries of a square (rotations by 0/90/180/270 degrees, each with and without a
// mirror) on uint8 RGB pixels. A tissue section has no "up", so a classifier should answer the
// same for all eight; averaging over them (test-time augmentation) smooths out orientation noise.

export interface RgbImage {
  /** width*height*3 bytes, row-major RGB. */
  data: Uint8Array;
  width: number;
  height: number;
}

export const DIHEDRAL_COUNT = 8;

/**
 * Transform `k` (0..7): mirror left-right first when k >= 4, then rotate clockwise by
 * (k % 4) quarter turns. k = 0 is the identity.
 */
export function dihedral(image: RgbImage, k: number): RgbImage {
  if (!Number.isInteger(k) || k < 0 || k >= DIHEDRAL_COUNT) throw new RangeError(`Expected a transform index 0..7 but received ${k}.`);
  const { width: w, height: h, data } = image;
  const turns = k % 4;
  const mirror = k >= 4;
  const outW = turns % 2 === 0 ? w : h;
  const outH = turns % 2 === 0 ? h : w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let px = mirror ? w - 1 - x : x;
      let py = y;
      let cw = w;
      let ch = h;
      for (let t = 0; t < turns; t++) {
        // A clockwise quarter turn sends (x, y) in cw×ch to (ch-1-y, x) in ch×cw.
        const nx = ch - 1 - py;
        py = px;
        px = nx;
        [cw, ch] = [ch, cw];
      }
      const src = (y * w + x) * 3;
      const dst = (py * outW + px) * 3;
      out[dst] = data[src];
      out[dst + 1] = data[src + 1];
      out[dst + 2] = data[src + 2];
    }
  }
  return { data: out, width: outW, height: outH };
}

/** All eight transforms of an image, identity first. */
export function allDihedral(image: RgbImage): RgbImage[] {
  return Array.from({ length: DIHEDRAL_COUNT }, (_, k) => dihedral(image, k));
}
