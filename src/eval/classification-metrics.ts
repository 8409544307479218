// Count-based metrics, all derived from one confusion matrix so they can never disagree.
// Undefined ratios (0/0, e.g. precision when nothing is predicted malignant) are 0, as
// scikit-learn's default zero_division does, so every value stays a finite JSON number.
import { ConfusionMatrix } from './confusion-matrix';

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of images truly of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Per-class F1 weighted by true class counts (sklearn `f1_score(average='weighted')`). */
  weightedF1: number;
  /** Unweighted mean of per-class F1 over the classes in the labels or predictions (as sklearn). */
  macroF1: number;
  /** Mean recall over the classes present in the data (sklearn `balanced_accuracy_score`). */
  balancedAccuracy: number;
  /** Malignant recall, TP / (TP + FN). */
  sensitivity: number;
  /** Benign recall, TN / (TN + FP). */
  specificity: number;
  perClass: { benign: ClassMetrics; malignant: ClassMetrics };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Share of all images classified correctly. */
export function accuracy(cm: ConfusionMatrix): number {
  if (cm.total === 0) throw new RangeError('Expected a confusion matrix with at least one image but received none');
  return (cm.tp + cm.tn) / cm.total;
}

function classMetrics(truePositive: number, falsePositive: number, falseNegative: number): ClassMetrics {
  const precision = ratio(truePositive, truePositive + falsePositive);
  const recall = ratio(truePositive, truePositive + falseNegative);
  return {
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    support: truePositive + falseNegative,
  };
}

/** Precision, recall, F1 and support for each class; benign is scored with benign as positive. */
export function perClassMetrics(cm: ConfusionMatrix): { benign: ClassMetrics; malignant: ClassMetrics } {
  return {
    malignant: classMetrics(cm.tp, cm.fp, cm.fn),
    benign: classMetrics(cm.tn, cm.fn, cm.fp),
  };
}

/** Per-class F1 weighted by each class's true count. */
export function weightedF1(cm: ConfusionMatrix): number {
  const { benign, malignant } = perClassMetrics(cm);
  return ratio(benign.f1 * benign.support + malignant.f1 * malignant.support, cm.total);
}

/**
 * Unweighted mean of per-class F1. Like sklearn, a class that appears neither in the labels nor
 * in the predictions is left out rather than scored 0.
 */
export function macroF1(cm: ConfusionMatrix): number {
  const { benign, malignant } = perClassMetrics(cm);
  const f1s: number[] = [];
  if (cm.malignant > 0 || cm.tp + cm.fp > 0) f1s.push(malignant.f1);
  if (cm.benign > 0 || cm.tn + cm.fn > 0) f1s.push(benign.f1);
  return ratio(f1s.reduce((a, b) => a + b, 0), f1s.length);
}

/** Malignant recall: the share of cancers found. */
export function sensitivity(cm: ConfusionMatrix): number {
  return ratio(cm.tp, cm.malignant);
}

/** Benign recall: the share of benign images left alone. */
export function specificity(cm: ConfusionMatrix): number {
  return ratio(cm.tn, cm.benign);
}

/** Mean of sensitivity and specificity, skipping a class absent from the data as sklearn does. */
export function balancedAccuracy(cm: ConfusionMatrix): number {
  const recalls: number[] = [];
  if (cm.malignant > 0) recalls.push(sensitivity(cm));
  if (cm.benign > 0) recalls.push(specificity(cm));
  if (recalls.length === 0) throw new RangeError('Expected a confusion matrix with at least one image but received none');
  return recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/** Every count-based metric of one confusion matrix. */
export function classificationMetrics(cm: ConfusionMatrix): ClassificationMetrics {
  return {
    accuracy: accuracy(cm),
    weightedF1: weightedF1(cm),
    macroF1: macroF1(cm),
    balancedAccuracy: balancedAccuracy(cm),
    sensitivity: sensitivity(cm),
    specificity: specificity(cm),
    perClass: perClassMetrics(cm),
  };
}
