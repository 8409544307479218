// The "top losses" of a test split (fastai's plot_top_losses): the images on which the model's
// cross-entropy is highest, i.e. its most confident mistakes. The loss is the plain (unweighted)
// cross-entropy −ln p(true class): the ranking then says how sure the model was of the wrong
// answer, the same for both classes; the training's class weights would instead push every image
// of the rarer class up the list by a constant factor.
import type { ClassLabel } from '../prediction-record';

export interface LossCandidate {
  path: string;
  label: ClassLabel;
  /** Softmax probabilities [benign, malignant]. */
  probabilities: readonly number[];
}

/** Probabilities below this are clamped, so a hard zero gives a large finite loss (ln 1e-12 ≈ −27.6). */
const FLOOR = 1e-12;

/** −ln p(label), the per-image cross-entropy. */
export function imageCrossEntropy(probabilities: readonly number[], label: ClassLabel): number {
  const p = probabilities[label];
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new RangeError(`Expected a probability in [0, 1] for class ${label} but received ${String(p)}`);
  }
  return -Math.log(Math.max(p, FLOOR));
}

export interface RankedLoss {
  /** Index into the candidates. */
  index: number;
  loss: number;
}

/** The `count` highest-loss candidates, highest first; ties go to the path that sorts first. */
export function topLosses(candidates: readonly LossCandidate[], count: number): RankedLoss[] {
  return candidates
    .map((c, index) => ({ index, loss: imageCrossEntropy(c.probabilities, c.label), path: c.path }))
    .sort((a, b) => b.loss - a.loss || (a.path < b.path ? -1 : a.path > b.path ? 1 : a.index - b.index))
    .slice(0, Math.max(0, count))
    .map(({ index, loss }) => ({ index, loss }));
}
