// H&E colour by Beer-Lambert: each pixel's optical density is haematoxylin density × its
// absorbance vector + eosin density × its vector; RGB = 255·exp(−OD). Patients differ in vectors
// and strengths, as slides from different days and labs do.
import type { Prng } from '../../util/prng';
import type { DensityMap } from './raster';

export interface StainStyle {
  /** RGB absorbance of one unit of haematoxylin (purple-blue nuclei). */
  h: [number, number, number];
  /** RGB absorbance of one unit of eosin (pink stroma and cytoplasm). */
  e: [number, number, number];
  hStrength: number;
  eStrength: number;
  /** Optical density of glass and mounting medium (lumen brightness). */
  glass: number;
  /** Patient-specific scale of nuclei. */
  nucleusScale: number;
}

const H_VECTOR: [number, number, number] = [0.65, 0.7, 0.29];
const E_VECTOR: [number, number, number] = [0.1, 0.85, 0.35];

export function patientStain(rng: Prng): StainStyle {
  const jitter = (v: [number, number, number], amount: number): [number, number, number] =>
    v.map((x) => x * (1 + (rng() * 2 - 1) * amount)) as [number, number, number];
  return {
    h: jitter(H_VECTOR, 0.12),
    e: jitter(E_VECTOR, 0.12),
    hStrength: 0.8 + rng() * 0.4,
    eStrength: 0.7 + rng() * 0.6,
    glass: 0.02 + rng() * 0.06,
    nucleusScale: 0.85 + rng() * 0.3,
  };
}

/** Writes interleaved RGB into `out` from haematoxylin, eosin and tissue (1) / lumen (0) maps. */
export function composeRgb(hMap: DensityMap, eMap: DensityMap, tissue: DensityMap, style: StainStyle, out: Uint8Array): void {
  const [hr, hg, hb] = style.h.map((x) => x * style.hStrength);
  const [er, eg, eb] = style.e.map((x) => x * style.eStrength);
  const n = hMap.w * hMap.h;
  for (let i = 0; i < n; i++) {
    const t = tissue.v[i];
    const h = hMap.v[i] * t;
    const e = eMap.v[i] * t;
    out[3 * i] = Math.round(255 * Math.exp(-(h * hr + e * er + style.glass)));
    out[3 * i + 1] = Math.round(255 * Math.exp(-(h * hg + e * eg + style.glass)));
    out[3 * i + 2] = Math.round(255 * Math.exp(-(h * hb + e * eb + style.glass)));
  }
}
