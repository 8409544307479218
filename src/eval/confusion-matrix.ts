// The binary confusion matrix in the study's layout, the source of every count-based metric.
import { ClassLabel } from './prediction-record';

export interface ConfusionCounts {
  /** Malignant images predicted malignant. */
  tp: number;
  /** Malignant images predicted benign (missed cancers). */
  fn: number;
  /** Benign images predicted malignant. */
  fp: number;
  /** Benign images predicted benign. */
  tn: number;
}

/**
 * Binary confusion matrix laid out as in the study: rows = true class, columns = predicted class,
 * malignant (the positive class) first in both:
 *
 * ```
 *                 predicted malignant  predicted benign
 * true malignant        TP                  FN
 * true benign           FP                  TN
 * ```
 * so `matrix = [[TP, FN], [FP, TN]]`.
 */
export interface ConfusionMatrix extends ConfusionCounts {
  matrix: [[number, number], [number, number]];
  /** All images. */
  total: number;
  /** Truly malignant images (TP + FN). */
  malignant: number;
  /** Truly benign images (FP + TN). */
  benign: number;
  /** Row / column order of `matrix`. */
  classOrder: ['malignant', 'benign'];
}

/** Builds the matrix from its four counts (each a non-negative integer). */
export function confusionMatrixFromCounts(counts: ConfusionCounts): ConfusionMatrix {
  for (const key of ['tp', 'fn', 'fp', 'tn'] as const) {
    const v = counts[key];
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`Expected non-negative integer for ${key} but received ${String(v)} of type ${typeof v}`);
    }
  }
  const { tp, fn, fp, tn } = counts;
  return {
    tp,
    fn,
    fp,
    tn,
    matrix: [
      [tp, fn],
      [fp, tn],
    ],
    total: tp + fn + fp + tn,
    malignant: tp + fn,
    benign: fp + tn,
    classOrder: ['malignant', 'benign'],
  };
}

/** Counts true vs predicted classes (0 = benign, 1 = malignant) into the study's layout. */
export function confusionMatrix(labels: readonly ClassLabel[], predicted: readonly ClassLabel[]): ConfusionMatrix {
  if (labels.length !== predicted.length) {
    throw new RangeError(`Expected as many predictions as labels but received ${predicted.length} and ${labels.length}`);
  }
  const counts: ConfusionCounts = { tp: 0, fn: 0, fp: 0, tn: 0 };
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      if (predicted[i] === 1) counts.tp++;
      else counts.fn++;
    } else if (predicted[i] === 1) counts.fp++;
    else counts.tn++;
  }
  return confusionMatrixFromCounts(counts);
}
