// Accuracy per tumour subtype: shows whether errors concentrate in, e.g., fibroadenoma (F) or
// lobular carcinoma (LC), which the overall numbers hide.
import { ClassLabel, SUBTYPE_CODES, SubtypeCode } from './prediction-record';

export interface SubtypeScore {
  images: number;
  correct: number;
  accuracy: number;
}

/** Scores of the subtypes present, keyed by code in the study's order (A, F, PT, TA, DC, LC, MC, PC). */
export type SubtypeAccuracy = Partial<Record<SubtypeCode, SubtypeScore>>;

export interface SubtypePrediction {
  subtype?: string;
  label: ClassLabel;
  predicted: ClassLabel;
}

/** Accuracy per subtype; predictions without a subtype are left out. */
export function subtypeAccuracy(predictions: readonly SubtypePrediction[]): SubtypeAccuracy {
  const tallies = new Map<SubtypeCode, { images: number; correct: number }>();
  for (const p of predictions) {
    if (p.subtype === undefined) continue;
    const code = p.subtype as SubtypeCode;
    if (!SUBTYPE_CODES.includes(code)) {
      throw new RangeError(`Expected one of ${SUBTYPE_CODES.join(', ')} for subtype but received ${JSON.stringify(p.subtype)}`);
    }
    const t = tallies.get(code) ?? { images: 0, correct: 0 };
    t.images++;
    if (p.label === p.predicted) t.correct++;
    tallies.set(code, t);
  }
  const result: SubtypeAccuracy = {};
  for (const code of SUBTYPE_CODES) {
    const t = tallies.get(code);
    if (t) result[code] = { images: t.images, correct: t.correct, accuracy: t.correct / t.images };
  }
  return result;
}
