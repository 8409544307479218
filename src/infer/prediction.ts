// One image's answer as every consumer (CLI rows, JSON API, web page) shows it: the probabilities
// from the model, the card's threshold turning them into a label, and the model's identity, so a
// number on screen always names the model card it came from.
import { applyThreshold } from '../eval';
import type { ModelCard, ModelSlot } from '../eval/model-card';
import type { Precision } from '../native';

export type Label = 'benign' | 'malignant';

/** Shown wherever a demo model's output appears: page banner, API field, model card page, CSV. */
export const DEMO_WARNING =
  'DEMO MODEL: Trained on synthetic images, not on patient tissue. Its output means nothing about any patient and must not be used on patients.';

/** Shown when the model's stain normaliser found no tissue in an image and left its colours as they were. */
export const STAIN_FALLBACK_NOTE =
  'Stain normalisation left this image unchanged: it found too little stained tissue (blank, near-white or one colour).';

export interface Prediction {
  magnification: ModelSlot;
  /** Softmax output in class order [benign, malignant]. */
  probabilities: { benign: number; malignant: number };
  label: Label;
  /** Class index of `label`: 0 benign, 1 malignant. */
  classIndex: 0 | 1;
  /** Decision threshold on P(malignant) from the model card (chosen on validation). */
  threshold: number;
  modelId: string;
  demo: boolean;
  /** DEMO_WARNING for demo models, otherwise absent. */
  warning?: string;
  /** Present when the model normalises stains: its method, and whether this image fell back unchanged. */
  stain?: { method: string; fallback: boolean };
  /** STAIN_FALLBACK_NOTE when the image fell back, otherwise absent. */
  stainNote?: string;
  /**
   * The precision the probabilities were computed in, and the one the model card's metrics were
   * measured in. Absent only from results kept by older versions.
   */
  precision?: { computed: Precision; measured: Precision };
  /** precisionNote(...) when the two differ, otherwise absent. */
  precisionNote?: string;
}

/** Says that the probability was computed in another precision than the card's metrics were. */
export function precisionNote(computed: Precision, measured: Precision): string {
  return `Computed in ${computed}; this model's card metrics were measured in ${measured}. ` +
    'Probabilities can differ slightly between the two, so one very near the threshold may fall on the other side.';
}

/** The precision a card's model was trained in (its recipe's; fp32 before bf16 existed). */
export function trainedPrecision(card: ModelCard): Precision {
  return card.recipe?.precision === 'bf16' ? 'bf16' : 'fp32';
}

/**
 * The precision a card's metrics were measured in: `evaluate --precision`'s, else the training's.
 * Models are served in it unless told otherwise.
 */
export function measuredPrecision(card: ModelCard): Precision {
  return card.metrics?.precision ?? trainedPrecision(card);
}

/**
 * Applies the card's threshold to softmax probabilities [benign, malignant]; `precision` is the one
 * they were computed in (default: the one the card's metrics were measured in).
 */
export function toPrediction(probabilities: readonly number[], card: ModelCard, stainFallback = false,
  precision: Precision = measuredPrecision(card)): Prediction {
  const malignant = probabilities[1];
  const classIndex = applyThreshold([malignant], card.threshold)[0];
  const prediction: Prediction = {
    magnification: card.magnification,
    probabilities: { benign: probabilities[0], malignant },
    label: classIndex === 1 ? 'malignant' : 'benign',
    classIndex,
    threshold: card.threshold,
    modelId: card.id,
    demo: card.demo === true,
  };
  if (prediction.demo) prediction.warning = DEMO_WARNING;
  if (card.stain && card.stain.method !== 'none') {
    prediction.stain = { method: card.stain.method, fallback: stainFallback };
    if (stainFallback) prediction.stainNote = STAIN_FALLBACK_NOTE;
  }
  const measured = measuredPrecision(card);
  prediction.precision = { computed: precision, measured };
  if (precision !== measured) prediction.precisionNote = precisionNote(precision, measured);
  return prediction;
}

/** Mean of probability vectors (test-time augmentation), renormalised against rounding drift. */
export function averageProbabilities(rows: readonly (readonly number[])[]): number[] {
  const sums = new Array<number>(rows[0].length).fill(0);
  for (const row of rows) row.forEach((p, i) => { sums[i] += p; });
  const total = sums.reduce((a, b) => a + b, 0);
  return sums.map((s) => s / total);
}
