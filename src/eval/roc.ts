// ROC curve and area under it. Tied scores are handled as one step (a diagonal segment), which
// makes the trapezoidal area equal the Mann–Whitney statistic with half credit for ties, i.e.
// sklearn's roc_auc_score.
import { ClassLabel, validateLabelsAndProbs } from './prediction-record';

export interface RocPoint {
  /** False positive rate, 1 - specificity. */
  fpr: number;
  /** True positive rate, sensitivity. */
  tpr: number;
  /**
   * Images with P(malignant) >= threshold are called malignant at this point; null for the
   * starting point (0, 0) where nothing is called malignant (sklearn uses +inf there, which JSON
   * cannot hold).
   */
  threshold: number | null;
}

function assertBothClasses(labels: readonly ClassLabel[]): { positives: number; negatives: number } {
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `Expected both benign and malignant labels for ROC but received ${negatives} benign and ${positives} malignant`,
    );
  }
  return { positives, negatives };
}

/**
 * ROC points at every distinct predicted probability, from (0, 0) to (1, 1), thresholds
 * descending. No collinear points are dropped, so the curve is exact for plotting and area.
 */
export function rocCurve(labels: readonly ClassLabel[], probs: readonly number[]): RocPoint[] {
  validateLabelsAndProbs(labels, probs);
  const { positives, negatives } = assertBothClasses(labels);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a]);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    if (k + 1 < order.length && probs[order[k + 1]] === probs[i]) continue;
    points.push({ fpr: fp / negatives, tpr: tp / positives, threshold: probs[i] });
  }
  return points;
}

/** Trapezoidal area under a curve given by points sorted by increasing fpr. */
export function areaUnderCurve(points: readonly RocPoint[]): number {
  let area = 0;
  for (let k = 1; k < points.length; k++) {
    area += ((points[k].fpr - points[k - 1].fpr) * (points[k].tpr + points[k - 1].tpr)) / 2;
  }
  return area;
}

/**
 * ROC-AUC by the Mann–Whitney U statistic: the probability that a random malignant image scores
 * higher than a random benign one, ties counting one half. Computed from mid-ranks, so it is
 * exact (no trapezoid rounding) and O(n log n).
 */
export function rocAuc(labels: readonly ClassLabel[], probs: readonly number[]): number {
  validateLabelsAndProbs(labels, probs);
  const { positives, negatives } = assertBothClasses(labels);
  const order = probs.map((_, i) => i).sort((a, b) => probs[a] - probs[b]);
  let positiveRankSum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && probs[order[end + 1]] === probs[order[start]]) end++;
    // Ranks are 1-based; tied scores all get the mean of ranks start+1 .. end+1.
    const midRank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) if (labels[order[k]] === 1) positiveRankSum += midRank;
    start = end + 1;
  }
  const u = positiveRankSum - (positives * (positives + 1)) / 2;
  return u / (positives * negatives);
}
