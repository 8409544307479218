// Percentile bootstrap confidence intervals with a seeded generator, so a report's interval is
// reproducible from its seed.
import { mulberry32, randInt } from '../util/prng';
import type { WilsonInterval } from './wilson-interval';

export interface BootstrapOptions {
  /** Number of resamples; 2000 by default. */
  resamples?: number;
  /** Seed of the mulberry32 generator; 0 by default. */
  seed?: number;
  /** Coverage of the interval; 0.95 by default. */
  level?: number;
}

export interface BootstrapInterval {
  lower: number;
  upper: number;
  level: number;
  resamples: number;
  seed: number;
  method: 'percentile-bootstrap';
}

/** An interval as reports store it: `method` says which kind, and with it which fields follow. */
export type ConfidenceInterval = BootstrapInterval | WilsonInterval;

export const DEFAULT_BOOTSTRAP = { resamples: 2000, seed: 0, level: 0.95 } as const;

/**
 * Quantile of sorted values by linear interpolation between order statistics (numpy's default,
 * Hyndman–Fan type 7).
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('Expected at least one value for a quantile but received none');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Resamples `units` with replacement `resamples` times, applies `statistic` to each resample,
 * and returns the central `level` percentile interval of those statistics.
 */
export function bootstrapPercentileCi<T>(
  units: readonly T[],
  statistic: (sample: readonly T[]) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP.resamples;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP.seed;
  const level = options.level ?? DEFAULT_BOOTSTRAP.level;
  if (units.length === 0) throw new RangeError('Expected at least one unit to bootstrap but received none');
  if (!Number.isInteger(resamples) || resamples <= 0) {
    throw new RangeError(`Expected positive integer for resamples but received ${String(resamples)} of type ${typeof resamples}`);
  }
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`Expected number in (0, 1) for level but received ${String(level)} of type ${typeof level}`);
  }
  const rng = mulberry32(seed);
  const stats = new Array<number>(resamples);
  const sample = new Array<T>(units.length);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < units.length; i++) sample[i] = units[randInt(rng, units.length)];
    stats[b] = statistic(sample);
  }
  stats.sort((a, b) => a - b);
  const alpha = 1 - level;
  return {
    lower: quantileSorted(stats, alpha / 2),
    upper: quantileSorted(stats, 1 - alpha / 2),
    level,
    resamples,
    seed,
    method: 'percentile-bootstrap',
  };
}
