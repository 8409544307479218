// Is an explanation faithful to the model? Deletion and insertion curves (Petsiuk et al. 2018,
// RISE): pixels are taken away from the image in the order the map ranks them, most important
// first, and the explained class's probability is tracked; a faithful map makes it fall fast
// (low deletion AUC). Inserting the same pixels onto a blurred copy should make it rise fast (high
// insertion AUC). The same curves with a seeded random order are the baseline a map must beat.
// Removed pixels take the blurred copy's value, not black: black edges are themselves evidence.
import type { Model } from '../native';
import { mulberry32, shuffle } from '../util/prng';
import { expectInteger } from '../util/expect';

/** Probability of the explained class for each image (uint8 RGB, HWC, at the given size). */
export type ClassProbability = (images: readonly Uint8Array[]) => Promise<number[]>;

/** `model`'s probability of class `target` for square images of side `size`, `batchSize` per native call. */
export function modelClassProbability(model: Model, size: number, target: number, batchSize: number): ClassProbability {
  return async (images) => {
    const out: number[] = [];
    for (let i = 0; i < images.length; i += batchSize) {
      const chunk = images.slice(i, i + batchSize);
      const data = new Uint8Array(chunk.length * size * size * 3);
      chunk.forEach((img, k) => data.set(img, k * size * size * 3));
      out.push(...(await model.predict({ data, shape: [chunk.length, size, size, 3] })).map((p) => p[target]));
    }
    return out;
  };
}

export interface FaithfulnessOptions {
  /** Points per curve minus one: 0%, 1/steps, … 100% of the pixels; 10 by default. */
  steps?: number;
  /** Seed of the random order and of tie-breaking; 0 by default. */
  seed?: number;
}

export interface FaithfulnessCurves {
  /** Fractions of pixels removed (deletion) or inserted (insertion), 0..1. */
  fractions: number[];
  deletion: number[];
  insertion: number[];
  randomDeletion: number[];
  randomInsertion: number[];
}

export interface FaithfulnessScores {
  /** Area under the deletion curve: lower is more faithful. */
  deletion: number;
  /** Area under the insertion curve: higher is more faithful. */
  insertion: number;
  /** The same areas for a seeded random order. */
  randomDeletion: number;
  randomInsertion: number;
}

export interface FaithfulnessResult extends FaithfulnessScores {
  steps: number;
  seed: number;
  curves: FaithfulnessCurves;
}

export const DEFAULT_FAITHFULNESS = { steps: 10, seed: 0 } as const;

/** Trapezoidal area under y over equally spaced x in 0..1. */
export function curveArea(y: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < y.length; i++) area += (y[i - 1] + y[i]) / 2;
  return area / (y.length - 1);
}

/** Box blur of radius r, three passes (close to a Gaussian of sigma ≈ r), edges clamped. */
export function blurred(pixels: Uint8Array, width: number, height: number, radius: number): Uint8Array {
  let src = Float32Array.from(pixels);
  let dst = new Float32Array(src.length);
  const pass = (horizontal: boolean): void => {
    const [outer, inner] = horizontal ? [height, width] : [width, height];
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < 3; c++) {
        const at = (i: number): number => 3 * (horizontal ? o * width + i : i * width + o) + c;
        let sum = 0;
        for (let k = -radius; k <= radius; k++) sum += src[at(Math.min(inner - 1, Math.max(0, k)))];
        for (let i = 0; i < inner; i++) {
          dst[at(i)] = sum / (2 * radius + 1);
          sum += src[at(Math.min(inner - 1, i + radius + 1))] - src[at(Math.max(0, i - radius))];
        }
      }
    }
    [src, dst] = [dst, src];
  };
  for (let n = 0; n < 3; n++) {
    pass(true);
    pass(false);
  }
  return Uint8Array.from(src, (v) => Math.round(v));
}

/** Pixel indices by decreasing map value; ties in a seeded random order (a flat map = random). */
export function rankPixels(map: ArrayLike<number>, seed: number): Int32Array {
  const order = shuffle(mulberry32(seed), Array.from({ length: map.length }, (_, i) => i));
  const position = new Int32Array(map.length);
  order.forEach((p, i) => { position[p] = i; });
  order.sort((a, b) => map[b] - map[a] || position[a] - position[b]);
  return Int32Array.from(order);
}

/** Images with the first `count` pixels of `order` taken from `from`, the rest from `base`. */
function mixed(base: Uint8Array, from: Uint8Array, order: Int32Array, count: number): Uint8Array {
  const out = Uint8Array.from(base);
  for (let i = 0; i < count; i++) {
    const p = 3 * order[i];
    out[p] = from[p];
    out[p + 1] = from[p + 1];
    out[p + 2] = from[p + 2];
  }
  return out;
}

/**
 * Deletion and insertion AUCs of `map` (width*height, any scale) for `pixels` against a random
 * order, scored by `probability` in one call of 4 × (steps + 1) images.
 */
export async function faithfulness(pixels: Uint8Array, width: number, height: number, map: ArrayLike<number>,
  probability: ClassProbability, options: FaithfulnessOptions = {}): Promise<FaithfulnessResult> {
  const steps = expectInteger(options.steps ?? DEFAULT_FAITHFULNESS.steps, 'steps', 1, 1000);
  const seed = expectInteger(options.seed ?? DEFAULT_FAITHFULNESS.seed, 'seed', 0);
  const count = width * height;
  if (pixels.length !== count * 3) throw new RangeError(`Expected ${count * 3} bytes of RGB pixels but received ${pixels.length}`);
  if (map.length !== count) throw new RangeError(`Expected a map of ${count} values but received ${map.length}`);
  const blur = blurred(pixels, width, height, Math.max(1, Math.round(Math.min(width, height) / 16)));
  const ranked = rankPixels(map, seed);
  const random = rankPixels(new Float32Array(count), seed + 1);
  const fractions = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const counts = fractions.map((f) => Math.round(f * count));
  const images = [ranked, random].flatMap((order) => [
    ...counts.map((n) => mixed(pixels, blur, order, n)),
    ...counts.map((n) => mixed(blur, pixels, order, n)),
  ]);
  const p = await probability(images);
  if (p.length !== images.length) throw new RangeError(`Expected ${images.length} probabilities but received ${p.length}`);
  const curve = (i: number): number[] => p.slice(i * (steps + 1), (i + 1) * (steps + 1));
  const curves = { fractions, deletion: curve(0), insertion: curve(1), randomDeletion: curve(2), randomInsertion: curve(3) };
  return {
    deletion: curveArea(curves.deletion),
    insertion: curveArea(curves.insertion),
    randomDeletion: curveArea(curves.randomDeletion),
    randomInsertion: curveArea(curves.randomInsertion),
    steps, seed, curves,
  };
}

/** Mean of each score over several images. */
export function meanScores(results: readonly FaithfulnessScores[]): FaithfulnessScores {
  const mean = (key: keyof FaithfulnessScores): number => results.reduce((s, r) => s + r[key], 0) / results.length;
  return { deletion: mean('deletion'), insertion: mean('insertion'), randomDeletion: mean('randomDeletion'), randomInsertion: mean('randomInsertion') };
}

/** Mean faithfulness per explanation method over a seeded sample of test images (evaluate, model card). */
export interface FaithfulnessSummary {
  images: number;
  seed: number;
  steps: number;
  /** Keyed by method ('gradcam', 'gradcam++'). */
  methods: Record<string, FaithfulnessScores>;
  /** Wall time of the whole sample, for deciding whether to compute it. */
  seconds: number;
}
