// Seeded pseudo-random numbers for everything that must be reproducible (splits, bootstrap,
// sampling): the same seed gives the same sequence on every machine. Math.random is never used
// for results because it cannot be seeded.

/** A generator returning floats uniformly distributed in [0, 1). */
export type Prng = () => number;

/**
 * mulberry32: a small 32-bit generator with a full 2^32 period, good enough for shuffles and
 * bootstrap resampling (not for cryptography). `seed` is reduced to an unsigned 32-bit integer.
 */
export function mulberry32(seed: number): Prng {
  if (!Number.isFinite(seed)) {
    throw new TypeError(`Expected finite number for seed but received ${String(seed)} of type ${typeof seed}`);
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly distributed integer in [0, maxExclusive). */
export function randInt(rng: Prng, maxExclusive: number): number {
  if (!Number.isInteger(maxExclusive) || maxExclusive <= 0) {
    throw new RangeError(
      `Expected positive integer for maxExclusive but received ${String(maxExclusive)} of type ${typeof maxExclusive}`,
    );
  }
  return Math.floor(rng() * maxExclusive);
}

/** Fisher–Yates shuffle of a copy of `items`; the input is left untouched. */
export function shuffle<T>(rng: Prng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Derives an independent stream from a seed and a string label (FNV-1a mix), e.g. per patient. */
export function deriveSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // One mulberry step to spread nearby seeds apart.
  return Math.floor(mulberry32(h)() * 4294967296) >>> 0;
}

/** Standard normal sample (Box-Muller). */
export function gaussian(rng: Prng): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
