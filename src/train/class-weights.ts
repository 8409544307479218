// Class weights of the weighted cross-entropy, from the training split's class frequencies, so a
// minority class (benign in BreakHis) counts as much in the loss as the majority one.
import { classIndex, type ManifestEntry } from '../data';
import { invalid } from '../util/expect';

/** weight_c = n / (classes · n_c) (scikit-learn's "balanced"); a class absent from training gets 0. */
export function classWeightsFromCounts(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!counts.every((c) => Number.isInteger(c) && c >= 0) || total === 0) {
    throw invalid('non-negative integer counts with at least one image', 'class counts', counts);
  }
  return counts.map((c) => (c === 0 ? 0 : total / (counts.length * c)));
}

/** Counts of labels 0..classes-1. */
export function countLabels(labels: readonly number[], classes = 2): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

/** The loss weights of a run: 'inverse-frequency' over its training entries, or none ([1, 1]). */
export function trainingClassWeights(weighting: 'inverse-frequency' | 'none', train: readonly Pick<ManifestEntry, 'cls'>[]): number[] {
  if (weighting === 'none') return [1, 1];
  return classWeightsFromCounts(countLabels(train.map((e) => classIndex(e.cls))));
}
