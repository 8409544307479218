// Wilson score interval (Wilson 1927) for a proportion of n independent units. Chosen for
// patient-level rates over few patients because it keeps close to its nominal coverage down to
// n of about 5 (Brown, Cai & DasGupta 2001), never collapses to a point at 0% or 100% (Wald and
// the bootstrap do: 4 of 4 patients right gives a bootstrap interval of 100–100%), and has a
// closed form. Clopper–Pearson would guarantee coverage at the price of intervals wider than
// needed on average; Wilson's average coverage is the better summary for a reader.
import { expectInteger, expectNumber } from '../util/expect';

export interface WilsonInterval {
  lower: number;
  upper: number;
  level: number;
  method: 'wilson';
  /** Units counted (patients); successes may be fractional: see patient-level.ts. */
  trials: number;
  successes: number;
}

/**
 * Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), for
 * the z of an interval's level.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`Expected number in (0, 1) for p but received ${String(p)} of type ${typeof p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number): number =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Two-sided Wilson score interval for `successes` of `trials` at `level` (0.95 by default). */
export function wilsonInterval(successes: number, trials: number, level = 0.95): WilsonInterval {
  expectInteger(trials, 'trials', 1);
  expectNumber(successes, 'successes', 0, trials);
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`Expected number in (0, 1) for level but received ${String(level)} of type ${typeof level}`);
  }
  const z = normalQuantile(1 - (1 - level) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials));
  // Clamp rounding at the ends: at p = 0 the lower bound is exactly 0, at p = 1 the upper is 1.
  return {
    lower: Math.max(0, centre - half), upper: Math.min(1, centre + half), level, method: 'wilson', trials, successes,
  };
}
