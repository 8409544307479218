// Renders one synthetic H&E-like tile into a raw RGB buffer, deterministically from its RNG.
import type { Magnification, SubtypeCode } from '../breakhis-names';
import type { Prng } from '../../util/prng';
import { noiseField } from './noise-field';
import { densityMap } from './raster';
import { composeRgb, type StainStyle } from './stain';
import { layTissue, MAGNIFICATION_SCALE } from './tissue-layout';

export interface TileSpec {
  width: number;
  height: number;
  subtype: SubtypeCode;
  magnification: Magnification;
  stain: StainStyle;
}

export function renderTile(spec: TileSpec, rng: Prng): Uint8Array {
  const { width: w, height: h } = spec;
  const s = MAGNIFICATION_SCALE[spec.magnification];
  // Stroma: blotchy eosin with fibre streaks running one way per tile.
  const blotch = noiseField(w, h, 90 * s, 90 * s, rng);
  const alongX = rng() < 0.5;
  const fibres = noiseField(w, h, alongX ? 40 * s : 5 * s, alongX ? 5 * s : 40 * s, rng);
  const e = densityMap(w, h);
  for (let i = 0; i < w * h; i++) e.v[i] = Math.max(0.05, 0.5 + 0.14 * blotch[i] + 0.16 * fibres[i]);
  const hm = densityMap(w, h);
  const tissue = densityMap(w, h, 1);
  // Small torn gaps in the stroma, in both classes, so "white" alone is not a benign cue.
  layTissue({ h: hm, e, tissue }, rng, spec.subtype, spec.magnification, spec.stain.nucleusScale);
  const gaps = noiseField(w, h, 60 * s, 60 * s, rng);
  for (let i = 0; i < w * h; i++) if (gaps[i] > 0.72) tissue.v[i] = Math.min(tissue.v[i], Math.max(0, 1 - (gaps[i] - 0.72) * 12));
  // Chromatin texture inside nuclei.
  const grain = noiseField(w, h, 2.5, 2.5, rng);
  for (let i = 0; i < w * h; i++) hm.v[i] *= 0.82 + 0.18 * grain[i];
  const out = new Uint8Array(w * h * 3);
  composeRgb(hm, e, tissue, spec.stain, out);
  return out;
}
