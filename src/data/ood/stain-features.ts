// Colour statistics of an RGB image in optical-density space (Beer–Lambert: OD = -log10(I / I0)),
// where stains add up linearly, so "does this look like H&E?" becomes geometry: haematoxylin and
// eosin absorb along two known directions (Ruifrok & Johnston 2001), and every stained pixel's OD
// is close to a non-negative mix of the two. Backgrounds (glass) have OD near 0 and are left out.
import type { RgbPixels } from './ood-types';

/** Ruifrok & Johnston's OD directions (unit vectors) for haematoxylin and eosin. */
const HAEMATOXYLIN = unit([0.65, 0.704, 0.286]);
const EOSIN = unit([0.072, 0.99, 0.105]);
/** Normal of the H–E plane: an OD direction's component along it is its distance from any H&E mix. */
const PLANE_NORMAL = unit(cross(HAEMATOXYLIN, EOSIN));

/** OD at or above this (summed over R, G, B) counts as stained tissue; glass is about 0.1. */
export const TISSUE_OD = 0.3;
/** A tissue pixel is "H&E-coloured" when its OD direction is within this angle of the H–E plane. */
export const PLANE_DEGREES = 30;

export interface StainFeatures {
  /** Share of pixels with OD sum >= TISSUE_OD. */
  tissueFraction: number;
  /** Among tissue pixels: share whose OD direction lies near the H–E plane, between H and E (with margin). */
  stainFraction: number;
  /** Mean absolute difference of neighbouring pixels' grey values (0..255): near 0 for flat colour. */
  texture: number;
  /** Distinct colours at 5 bits per channel, as a share of 32768: tiny for flat colours and UI. */
  colourVariety: number;
  /** Share of horizontal neighbours with exactly the same RGB: UI and drawings are mostly that, micrographs have sensor noise. */
  uniformShare: number;
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function cross(a: number[], b: number[]): number[] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** OD of each 8-bit value, with I0 = 256 so that 255 maps to a small positive OD, not 0. */
const OD = Float64Array.from({ length: 256 }, (_, v) => -Math.log10((v + 1) / 256));

const SIN_PLANE = Math.sin((PLANE_DEGREES * Math.PI) / 180);
/** Coefficients of an OD direction on (H, E): solved once for the in-plane projection. */
const HE_DOT = HAEMATOXYLIN[0] * EOSIN[0] + HAEMATOXYLIN[1] * EOSIN[1] + HAEMATOXYLIN[2] * EOSIN[2];

/** Is this OD vector (length > 0) near a non-negative mix of haematoxylin and eosin? */
function looksStained(r: number, g: number, b: number): boolean {
  // sqrt, not Math.hypot: several times faster in V8, and OD values cannot overflow.
  const length = Math.sqrt(r * r + g * g + b * b);
  const off = (r * PLANE_NORMAL[0] + g * PLANE_NORMAL[1] + b * PLANE_NORMAL[2]) / length;
  if (Math.abs(off) > SIN_PLANE) return false;
  // Project on the plane and solve p = h·H + e·E; both amounts must be (nearly) non-negative.
  const ph = (r * HAEMATOXYLIN[0] + g * HAEMATOXYLIN[1] + b * HAEMATOXYLIN[2]) / length;
  const pe = (r * EOSIN[0] + g * EOSIN[1] + b * EOSIN[2]) / length;
  const det = 1 - HE_DOT * HE_DOT;
  const h = (ph - HE_DOT * pe) / det;
  const e = (pe - HE_DOT * ph) / det;
  return h > -0.25 && e > -0.25;
}

export function stainFeatures(image: RgbPixels): StainFeatures {
  const { data, width, height } = image;
  const pixels = width * height;
  let tissue = 0;
  let stained = 0;
  let texture = 0;
  let pairs = 0;
  let same = 0;
  const colours = new Uint8Array(32768);
  let distinct = 0;
  for (let i = 0; i < pixels; i++) {
    const r = data[3 * i];
    const g = data[3 * i + 1];
    const b = data[3 * i + 2];
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    if (colours[key] === 0) {
      colours[key] = 1;
      distinct++;
    }
    if ((i + 1) % width !== 0) {
      const j = 3 * (i + 1);
      texture += Math.abs(r + g + b - data[j] - data[j + 1] - data[j + 2]) / 3;
      if (r === data[j] && g === data[j + 1] && b === data[j + 2]) same++;
      pairs++;
    }
    const odR = OD[r];
    const odG = OD[g];
    const odB = OD[b];
    if (odR + odG + odB < TISSUE_OD) continue;
    tissue++;
    if (looksStained(odR, odG, odB)) stained++;
  }
  return {
    tissueFraction: tissue / pixels,
    stainFraction: tissue > 0 ? stained / tissue : 0,
    texture: pairs > 0 ? texture / pairs : 0,
    colourVariety: distinct / 32768,
    uniformShare: pairs > 0 ? same / pairs : 0,
  };
}
