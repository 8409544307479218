// Smooth value noise: a coarse random grid, bilinearly interpolated with smoothstep. Cheap enough
// to give every tile blotchy stain, fibre streaks and chromatin texture.
import type { Prng } from '../../util/prng';

/** Returns w*h values in about [-1, 1], varying over `cellX` × `cellY` pixels. */
export function noiseField(w: number, h: number, cellX: number, cellY: number, rng: Prng): Float32Array {
  const gw = Math.ceil(w / cellX) + 2;
  const gh = Math.ceil(h / cellY) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng() * 2 - 1;
  const out = new Float32Array(w * h);
  const sx = new Float32Array(w);
  const ix = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = x / cellX;
    ix[x] = Math.floor(fx);
    const t = fx - ix[x];
    sx[x] = t * t * (3 - 2 * t);
  }
  for (let y = 0; y < h; y++) {
    const fy = y / cellY;
    const iy = Math.floor(fy);
    let ty = fy - iy;
    ty = ty * ty * (3 - 2 * ty);
    const r0 = iy * gw;
    const r1 = r0 + gw;
    for (let x = 0; x < w; x++) {
      const i = ix[x];
      const a = grid[r0 + i] + (grid[r0 + i + 1] - grid[r0 + i]) * sx[x];
      const b = grid[r1 + i] + (grid[r1 + i + 1] - grid[r1 + i]) * sx[x];
      out[y * w + x] = a + (b - a) * ty;
    }
  }
  return out;
}
