// The data layer's names for the shared seeded generator (src/util/prng.ts): splits, sampling and
// synthetic images are reproducible from a seed.
import { shuffle, type Prng } from '../util/prng';

export { deriveSeed, gaussian, mulberry32, type Prng as Rng } from '../util/prng';

/** Fisher-Yates shuffle into a new array (argument order of the data layer's callers). */
export function shuffled<T>(items: readonly T[], rng: Prng): T[] {
  return shuffle(rng, items);
}
