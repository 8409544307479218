// The one input shape of the evaluation part, and its validation. Everything downstream trusts
// records that passed `validatePredictionRecords`, so errors surface here with a clear message.

/** Class index: 0 = benign, 1 = malignant (the positive class). */
export type ClassLabel = 0 | 1;

/** BreakHis tumour subtype codes: benign A, F, PT, TA; malignant DC, LC, MC, PC. */
export type SubtypeCode = 'A' | 'F' | 'PT' | 'TA' | 'DC' | 'LC' | 'MC' | 'PC';

export const BENIGN_SUBTYPES: readonly SubtypeCode[] = ['A', 'F', 'PT', 'TA'];
export const MALIGNANT_SUBTYPES: readonly SubtypeCode[] = ['DC', 'LC', 'MC', 'PC'];
export const SUBTYPE_CODES: readonly SubtypeCode[] = [...BENIGN_SUBTYPES, ...MALIGNANT_SUBTYPES];

/** One image's ground truth and the model's predicted probability of malignancy. */
export interface PredictionRecord {
  label: ClassLabel;
  probMalignant: number;
  patient: string;
  subtype?: string;
}

function describe(value: unknown): string {
  return `${typeof value === 'string' ? JSON.stringify(value) : String(value)} of type ${typeof value}`;
}

/** Throws a RangeError unless `p` is a probability in [0, 1] (NaN rejected). */
export function assertProbability(p: unknown, what: string): asserts p is number {
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
    throw new RangeError(`Expected number in [0, 1] for ${what} but received ${describe(p)}`);
  }
}

/** Throws a RangeError unless `label` is 0 or 1. */
export function assertLabel(label: unknown, what: string): asserts label is ClassLabel {
  if (label !== 0 && label !== 1) {
    throw new RangeError(`Expected 0 (benign) or 1 (malignant) for ${what} but received ${describe(label)}`);
  }
}

/** Throws unless `labels` and `probs` are non-empty, equally long, and each entry is valid. */
export function validateLabelsAndProbs(labels: readonly number[], probs: readonly number[]): void {
  if (labels.length === 0) throw new RangeError('Expected at least one prediction but received none');
  if (labels.length !== probs.length) {
    throw new RangeError(`Expected as many probabilities as labels but received ${probs.length} and ${labels.length}`);
  }
  for (let i = 0; i < labels.length; i++) {
    assertLabel(labels[i], `labels[${i}]`);
    assertProbability(probs[i], `probabilities[${i}]`);
  }
}

/**
 * Validates the records an evaluation is computed from: non-empty; label 0|1; probMalignant a
 * number in [0, 1]; patient a non-empty string; subtype, when given, a known code whose class
 * agrees with the label (a mismatch means the manifest and labels went out of step).
 */
export function validatePredictionRecords(records: readonly PredictionRecord[]): void {
  if (!Array.isArray(records)) throw new TypeError(`Expected array of records but received ${describe(records)}`);
  if (records.length === 0) throw new RangeError('Expected at least one prediction record but received none');
  records.forEach((r, i) => {
    if (r === null || typeof r !== 'object') throw new TypeError(`Expected object for records[${i}] but received ${describe(r)}`);
    assertLabel(r.label, `records[${i}].label`);
    assertProbability(r.probMalignant, `records[${i}].probMalignant`);
    if (typeof r.patient !== 'string' || r.patient.length === 0) {
      throw new TypeError(`Expected non-empty string for records[${i}].patient but received ${describe(r.patient)}`);
    }
    if (r.subtype !== undefined) {
      if (!SUBTYPE_CODES.includes(r.subtype as SubtypeCode)) {
        throw new RangeError(
          `Expected one of ${SUBTYPE_CODES.join(', ')} for records[${i}].subtype but received ${describe(r.subtype)}`,
        );
      }
      const subtypeLabel = MALIGNANT_SUBTYPES.includes(r.subtype as SubtypeCode) ? 1 : 0;
      if (subtypeLabel !== r.label) {
        throw new RangeError(
          `Expected label ${subtypeLabel} for records[${i}] of subtype ${r.subtype} but received ${r.label}`,
        );
      }
    }
  });
}
