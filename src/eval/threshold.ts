// Turning probabilities into class decisions, and choosing the decision threshold on the
// validation split (never on test) so the reported test numbers stay unbiased.
import { confusionMatrixFromCounts } from './confusion-matrix';
import { classificationMetrics } from './classification-metrics';
import { ClassLabel, validateLabelsAndProbs, assertProbability } from './prediction-record';

/** The study's default: malignant when P(malignant) >= 0.5. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * Predicted class for each probability: malignant (1) when `prob >= threshold`, else benign (0).
 * The `>=` matches the ROC convention, so a threshold equal to a predicted probability counts
 * that image as malignant.
 */
export function applyThreshold(probs: readonly number[], threshold: number = DEFAULT_THRESHOLD): ClassLabel[] {
  assertProbability(threshold, 'threshold');
  return probs.map((p) => (p >= threshold ? 1 : 0));
}

/** What the threshold maximises: weighted F1, or Youden's J = sensitivity + specificity - 1. */
export type ThresholdCriterion = 'weightedF1' | 'youdenJ';

export interface ThresholdSelection {
  threshold: number;
  criterion: ThresholdCriterion;
  /** The criterion's value at the chosen threshold. */
  score: number;
  /** How many distinct predicted probabilities were tried. */
  candidates: number;
}

/**
 * Chooses the threshold maximising `criterion` over the distinct predicted probabilities
 * (each candidate t classifies `prob >= t` as malignant). Ties are broken deterministically:
 * first the candidate closest to the default 0.5 (the least surprising rule among equals),
 * then the lower threshold (favouring sensitivity: a missed cancer costs more than a recall).
 */
export function selectThreshold(
  labels: readonly ClassLabel[],
  probs: readonly number[],
  criterion: ThresholdCriterion = 'weightedF1',
): ThresholdSelection {
  validateLabelsAndProbs(labels, probs);
  const order = probs.map((_, i) => i).sort((a, b) => probs[b] - probs[a]);
  const positives = labels.filter((l) => l === 1).length;
  const negatives = labels.length - positives;

  let best: ThresholdSelection | undefined;
  let tp = 0;
  let fp = 0;
  let candidates = 0;
  // Sweep from the highest probability down; after a whole tie group is counted, everything
  // with prob >= that value is predicted malignant.
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    const nextIsTie = k + 1 < order.length && probs[order[k + 1]] === probs[i];
    if (nextIsTie) continue;
    candidates++;
    const cm = confusionMatrixFromCounts({ tp, fn: positives - tp, fp, tn: negatives - fp });
    const m = classificationMetrics(cm);
    const score = criterion === 'weightedF1' ? m.weightedF1 : m.sensitivity + m.specificity - 1;
    const threshold = probs[i];
    if (best === undefined || isBetter(score, threshold, best)) {
      best = { threshold, criterion, score, candidates: 0 };
    }
  }
  // `best` is set on the first candidate; the non-null assertion is safe because input is non-empty.
  return { ...best!, candidates };
}

// Scores closer than this are equal: the same counts reached by different sums may differ in
// the last bits, and such noise must not decide the threshold.
const SCORE_TIE_TOLERANCE = 1e-12;

function isBetter(score: number, threshold: number, best: ThresholdSelection): boolean {
  if (Math.abs(score - best.score) > SCORE_TIE_TOLERANCE) return score > best.score;
  const d = Math.abs(threshold - DEFAULT_THRESHOLD);
  const dBest = Math.abs(best.threshold - DEFAULT_THRESHOLD);
  if (d !== dBest) return d < dBest;
  return threshold < best.threshold;
}
