// Summarises per-fold results as mean ± sample standard deviation. Works on any JSON-like result
// (e.g. EvaluationReport): every numeric leaf reached through objects is summarised under its
// dotted path; arrays (curves, patient lists) and nulls are skipped, since they do not average.

export interface MetricSummary {
  mean: number;
  /** Sample standard deviation (n - 1 denominator); null with a single fold. */
  std: number | null;
  /** The per-fold values, in fold order. */
  values: number[];
}

export interface CrossValidationSummary {
  folds: number;
  /** Keyed by dotted path, e.g. "metrics.weightedF1" or "confusionMatrix.tp". */
  metrics: Record<string, MetricSummary>;
}

/** Every numeric leaf of `value` keyed by its dotted path. */
export function numericLeaves(value: unknown, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (v: unknown, path: string): void => {
    if (typeof v === 'number') {
      if (Number.isFinite(v) && path !== '') out.set(path, v);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [key, child] of Object.entries(v)) visit(child, path === '' ? key : `${path}.${key}`);
    }
  };
  visit(value, prefix);
  return out;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('Expected at least one value for a mean but received none');
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation; null for fewer than two values, where it is undefined. */
export function sampleStd(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const m = mean(values);
  const ss = values.reduce((acc, v) => acc + (v - m) * (v - m), 0);
  return Math.sqrt(ss / (values.length - 1));
}

/**
 * Mean and sample std of each numeric metric across folds. A metric missing or non-numeric in
 * some fold (e.g. a subtype absent from one fold) is summarised over the folds that have it,
 * and its `values` length shows how many.
 */
export function summariseFolds(folds: readonly unknown[]): CrossValidationSummary {
  if (folds.length === 0) throw new RangeError('Expected at least one fold but received none');
  const collected = new Map<string, number[]>();
  for (const fold of folds) {
    for (const [path, v] of numericLeaves(fold)) {
      const list = collected.get(path) ?? [];
      list.push(v);
      collected.set(path, list);
    }
  }
  const metrics: Record<string, MetricSummary> = {};
  for (const [path, values] of collected) metrics[path] = { mean: mean(values), std: sampleStd(values), values };
  return { folds: folds.length, metrics };
}

/** "0.912 ± 0.014" (or just the mean when std is undefined). */
export function formatMeanStd(summary: MetricSummary, digits = 3): string {
  const m = summary.mean.toFixed(digits);
  return summary.std === null ? m : `${m} ± ${summary.std.toFixed(digits)}`;
}
