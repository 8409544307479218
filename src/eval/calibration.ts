// Expected calibration error (Guo et al. 2017, "On Calibration of Modern Neural Networks"):
// confidence = probability of the predicted class, binned into equal-width bins; ECE is the
// count-weighted mean |accuracy - confidence| over bins. Calibration describes the probabilities
// themselves, so the predicted class here is the argmax (P(malignant) >= 0.5), whatever
// decision threshold is used elsewhere.
import { ClassLabel, validateLabelsAndProbs } from './prediction-record';

export const DEFAULT_ECE_BINS = 15;

export interface ReliabilityBin {
  /** Bin covers confidences in (lower, upper]; the first bin also includes its lower edge. */
  lower: number;
  upper: number;
  count: number;
  /** Mean confidence of the images in the bin; null when empty. */
  meanConfidence: number | null;
  /** Share of the bin's images classified correctly; null when empty. */
  accuracy: number | null;
}

export interface CalibrationResult {
  ece: number;
  bins: ReliabilityBin[];
}

/**
 * Bin k covers (k/B, (k+1)/B]. The estimate from ceil() is corrected against the edges k/B
 * themselves, so a confidence on an edge lands where a `lower < c <= upper` test puts it.
 */
function binIndex(confidence: number, binCount: number): number {
  let bin = Math.min(binCount - 1, Math.max(0, Math.ceil(confidence * binCount) - 1));
  while (bin > 0 && confidence <= bin / binCount) bin--;
  while (bin < binCount - 1 && confidence > (bin + 1) / binCount) bin++;
  return bin;
}

/** ECE and the per-bin data of a reliability diagram. */
export function calibration(
  labels: readonly ClassLabel[],
  probs: readonly number[],
  binCount: number = DEFAULT_ECE_BINS,
): CalibrationResult {
  validateLabelsAndProbs(labels, probs);
  if (!Number.isInteger(binCount) || binCount <= 0) {
    throw new RangeError(`Expected positive integer for binCount but received ${String(binCount)} of type ${typeof binCount}`);
  }
  const counts = new Array<number>(binCount).fill(0);
  const confidenceSums = new Array<number>(binCount).fill(0);
  const correctCounts = new Array<number>(binCount).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const predicted = probs[i] >= 0.5 ? 1 : 0;
    const confidence = predicted === 1 ? probs[i] : 1 - probs[i];
    const bin = binIndex(confidence, binCount);
    counts[bin]++;
    confidenceSums[bin] += confidence;
    if (predicted === labels[i]) correctCounts[bin]++;
  }
  let ece = 0;
  const bins: ReliabilityBin[] = counts.map((count, k) => {
    const bin: ReliabilityBin = {
      lower: k / binCount,
      upper: (k + 1) / binCount,
      count,
      meanConfidence: count === 0 ? null : confidenceSums[k] / count,
      accuracy: count === 0 ? null : correctCounts[k] / count,
    };
    if (count > 0) ece += (count / labels.length) * Math.abs(bin.accuracy! - bin.meanConfidence!);
    return bin;
  });
  return { ece, bins };
}

/** Expected calibration error alone. */
export function expectedCalibrationError(
  labels: readonly ClassLabel[],
  probs: readonly number[],
  binCount: number = DEFAULT_ECE_BINS,
): number {
  return calibration(labels, probs, binCount).ece;
}
