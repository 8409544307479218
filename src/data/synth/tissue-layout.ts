// What a tile shows, by class and subtype. Benign: round, evenly spaced glands with open lumens
// rimmed by one row of small, regular, evenly stained nuclei. Malignant: glands lost; crowded
// nests, cords or sheets of larger, irregular, pleomorphic, darker nuclei with nucleoli.
// Both classes share stroma, stain and lymphocytes, so no global colour alone tells them apart.
import type { Magnification, SubtypeCode } from '../breakhis-names';
import { gaussian, type Prng } from '../../util/prng';
import { type Blob, type DensityMap, drawBlob } from './raster';

export interface TissueMaps {
  h: DensityMap;
  e: DensityMap;
  tissue: DensityMap;
}

/** Pixels per structure unit: higher magnification shows fewer, larger structures. */
export const MAGNIFICATION_SCALE: Record<Magnification, number> = { '40X': 0.55, '100X': 1, '200X': 1.7, '400X': 2.8 };

interface Ctx {
  maps: TissueMaps;
  rng: Prng;
  /** Nucleus radius for this tile (pixels). */
  rn: number;
  scale: number;
}

const rand = (rng: Prng, lo: number, hi: number): number => lo + rng() * (hi - lo);

function wobble(rng: Prng, amount: number): Blob['wobble'] {
  return {
    a2: amount * rng(), a3: amount * rng() * 0.7, a5: amount * rng() * 0.4,
    p2: rng() * 6.283, p3: rng() * 6.283, p5: rng() * 6.283,
  };
}

/** Small, round, very dark lymphocytes and thin spindle fibroblasts: in both classes. */
function stromalCells(c: Ctx, density: number): void {
  const { w, h } = c.maps.h;
  const n = Math.round((w * h * density) / (c.scale * c.scale));
  for (let i = 0; i < n; i++) {
    const lymph = c.rng() < 0.3;
    const r = c.rn * (lymph ? 0.55 : 0.5);
    drawBlob(c.maps.h, {
      x: c.rng() * w, y: c.rng() * h,
      rx: lymph ? r : r * 2.6, ry: r, angle: c.rng() * Math.PI,
      value: lymph ? 1.25 : 0.85,
    }, 'max');
  }
}

interface GlandShape {
  radius: number;
  /** ry / rx range. */
  aspect: [number, number];
  /** Fraction of the tile the glands try to cover. */
  coverage: number;
}

const BENIGN_GLANDS: Record<'A' | 'F' | 'PT' | 'TA', GlandShape> = {
  A: { radius: 24, aspect: [0.6, 1], coverage: 0.45 },
  F: { radius: 34, aspect: [0.3, 0.55], coverage: 0.3 },
  PT: { radius: 48, aspect: [0.15, 0.3], coverage: 0.28 },
  TA: { radius: 20, aspect: [0.75, 1], coverage: 0.5 },
};

function benignGlands(c: Ctx, shape: GlandShape): void {
  const { w, h } = c.maps.h;
  const placed: { x: number; y: number; r: number }[] = [];
  const target = w * h * shape.coverage * rand(c.rng, 0.7, 1.2);
  let covered = 0;
  for (let tries = 0; tries < 400 && covered < target; tries++) {
    const rx = shape.radius * c.scale * rand(c.rng, 0.7, 1.3);
    const ry = rx * rand(c.rng, shape.aspect[0], shape.aspect[1]);
    const x = rand(c.rng, -rx * 0.3, w + rx * 0.3);
    const y = rand(c.rng, -rx * 0.3, h + rx * 0.3);
    if (placed.some((p) => Math.hypot(p.x - x, p.y - y) < (p.r + rx) * 0.85)) continue;
    placed.push({ x, y, r: rx });
    covered += Math.PI * rx * ry;
    const angle = c.rng() * Math.PI;
    // Epithelium: a band of pale pink-lilac cytoplasm around the lumen.
    drawBlob(c.maps.e, { x, y, rx, ry, angle, value: 0.12 }, 'add');
    drawBlob(c.maps.h, { x, y, rx, ry, angle, value: 0.1 }, 'max');
    const lumenRx = Math.max(rx - 2.6 * c.rn, rx * 0.45);
    const lumenRy = Math.max(ry - 2.6 * c.rn, ry * 0.3);
    drawBlob(c.maps.tissue, { x, y, rx: lumenRx, ry: lumenRy, angle, value: 0.97 }, 'clear');
    // One orderly row of nuclei on the ellipse between lumen and gland edge.
    const ax = (lumenRx + rx) / 2;
    const ay = (lumenRy + ry) / 2;
    const perimeter = Math.PI * (3 * (ax + ay) - Math.sqrt((3 * ax + ay) * (ax + 3 * ay)));
    const count = Math.max(6, Math.floor(perimeter / (2.5 * c.rn)));
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    for (let k = 0; k < count; k++) {
      const t = (2 * Math.PI * (k + rand(c.rng, -0.1, 0.1))) / count;
      const px = ax * Math.cos(t);
      const py = ay * Math.sin(t);
      const r = c.rn * rand(c.rng, 0.92, 1.08);
      drawBlob(c.maps.h, {
        x: x + px * ca - py * sa, y: y + px * sa + py * ca,
        rx: r, ry: r * 0.72, angle: Math.atan2(py * ca + px * sa, px * ca - py * sa),
        value: rand(c.rng, 0.85, 1.0),
      }, 'max');
    }
  }
}

/** One malignant nucleus: large, variable, irregular outline, dark, often with a nucleolus. */
function atypicalNucleus(c: Ctx, x: number, y: number, sizeFactor = 1): void {
  const r = c.rn * sizeFactor * Math.exp(0.28 * gaussian(c.rng));
  const value = Math.max(1.1, 1.45 + 0.18 * gaussian(c.rng));
  drawBlob(c.maps.h, { x, y, rx: r, ry: r * rand(c.rng, 0.6, 1), angle: c.rng() * Math.PI, value, wobble: wobble(c.rng, 0.22) }, 'max');
  if (c.rng() < 0.55) {
    drawBlob(c.maps.h, { x: x + rand(c.rng, -0.3, 0.3) * r, y: y + rand(c.rng, -0.3, 0.3) * r, rx: r * 0.22, ry: r * 0.22, angle: 0, value: value + 0.6 }, 'max');
  }
}

/** Solid nests or sheets packed with atypical nuclei (ductal, papillary and most malignant tiles). */
function carcinomaNests(c: Ctx, coverage: number, nestRadius: number, elongation: [number, number]): void {
  const { w, h } = c.maps.h;
  const target = w * h * coverage * rand(c.rng, 0.75, 1.2);
  let covered = 0;
  for (let tries = 0; tries < 200 && covered < target; tries++) {
    const rx = nestRadius * c.scale * rand(c.rng, 0.6, 1.4);
    const ry = rx * rand(c.rng, elongation[0], elongation[1]);
    const x = rand(c.rng, 0, w);
    const y = rand(c.rng, 0, h);
    const angle = c.rng() * Math.PI;
    covered += Math.PI * rx * ry;
    const outline = wobble(c.rng, 0.25);
    drawBlob(c.maps.e, { x, y, rx, ry, angle, value: 0.08, wobble: outline }, 'add');
    drawBlob(c.maps.h, { x, y, rx, ry, angle, value: 0.16, wobble: outline }, 'max');
    // Crowded, jittered grid of nuclei, clipped to the nest.
    const step = 2.1 * c.rn;
    const ca = Math.cos(angle);
    const sa = Math.sin(angle);
    for (let v = -ry; v <= ry; v += step) {
      for (let u = -rx; u <= rx; u += step) {
        if ((u * u) / (rx * rx) + (v * v) / (ry * ry) > 1) continue;
        const ju = u + rand(c.rng, -0.45, 0.45) * step;
        const jv = v + rand(c.rng, -0.45, 0.45) * step;
        atypicalNucleus(c, x + ju * ca - jv * sa, y + ju * sa + jv * ca);
      }
    }
  }
}

/** Lobular carcinoma: single-file cords of discohesive cells infiltrating the stroma. */
function singleFileCords(c: Ctx): void {
  const { w, h } = c.maps.h;
  const cords = Math.round(rand(c.rng, 10, 16) / Math.sqrt(c.scale));
  const mainAngle = c.rng() * Math.PI;
  for (let k = 0; k < cords; k++) {
    let x = rand(c.rng, 0, w);
    let y = rand(c.rng, 0, h);
    let angle = mainAngle + rand(c.rng, -0.5, 0.5);
    const length = rand(c.rng, 0.4, 1) * Math.max(w, h);
    for (let d = 0; d < length; d += 2.2 * c.rn * 0.85) {
      atypicalNucleus(c, x, y, 0.85);
      x += Math.cos(angle) * 2.2 * c.rn * 0.85;
      y += Math.sin(angle) * 2.2 * c.rn * 0.85;
      angle += rand(c.rng, -0.15, 0.15);
    }
  }
  carcinomaNests(c, 0.12, 40, [0.5, 1]);
}

/** Mucinous carcinoma: pale pools of mucin with floating clusters of atypical cells. */
function mucinPools(c: Ctx): void {
  const { w, h } = c.maps.h;
  const pools = 2 + Math.floor(c.rng() * 3);
  for (let k = 0; k < pools; k++) {
    const rx = rand(c.rng, 90, 170) * c.scale;
    const blob = { x: rand(c.rng, 0, w), y: rand(c.rng, 0, h), rx, ry: rx * rand(c.rng, 0.5, 0.9), angle: c.rng() * Math.PI, wobble: wobble(c.rng, 0.2) };
    // Mucin is faintly blue-grey, not empty: weak haematoxylin, little eosin.
    drawBlob(c.maps.e, { ...blob, value: 1 }, 'clear');
    drawBlob(c.maps.h, { ...blob, value: 0.18 }, 'max');
  }
  carcinomaNests(c, 0.3, 28, [0.5, 1]);
}

export function layTissue(maps: TissueMaps, rng: Prng, subtype: SubtypeCode, magnification: Magnification, nucleusScale: number): void {
  const scale = MAGNIFICATION_SCALE[magnification];
  const benign = subtype === 'A' || subtype === 'F' || subtype === 'PT' || subtype === 'TA';
  // Malignant nuclei are ~1.6× benign ones (anisonucleosis adds spread on top).
  const rn = (benign ? 3.2 : 5.0) * scale * nucleusScale;
  const c: Ctx = { maps, rng, rn, scale };
  stromalCells(c, benign ? 0.0009 : 0.0006);
  switch (subtype) {
    case 'A': case 'F': case 'PT': case 'TA':
      benignGlands(c, BENIGN_GLANDS[subtype]);
      break;
    case 'DC':
      carcinomaNests(c, 0.5, 70, [0.5, 1]);
      break;
    case 'LC':
      singleFileCords(c);
      break;
    case 'MC':
      mucinPools(c);
      break;
    case 'PC':
      // Papillary fronds: long, narrow, branching-looking nests.
      carcinomaNests(c, 0.45, 80, [0.2, 0.4]);
      break;
  }
}
