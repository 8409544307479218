// Patient-level recognition rate, the BreakHis authors' measure (Spanhol et al. 2016): for each
// patient the share of their images classified correctly, averaged over patients, so a patient
// with many images does not outweigh one with few. Its interval counts patients, the independent
// units, not images: a Wilson score interval below PATIENT_BOOTSTRAP_MIN patients, a percentile
// bootstrap over patients from there on (a bootstrap over 4 patients can only ever see 4 values
// and reads 71.9–100% where the truth is far less certain).
import { bootstrapPercentileCi, BootstrapOptions, ConfidenceInterval } from './bootstrap';
import { wilsonInterval } from './wilson-interval';
import { ClassLabel } from './prediction-record';

export interface PatientScore {
  patient: string;
  images: number;
  correct: number;
  /** correct / images for this patient. */
  rate: number;
}

export interface PatientLevelResult {
  /** Mean over patients of each patient's recognition rate. */
  recognitionRate: number;
  patients: PatientScore[];
  confidenceInterval: ConfidenceInterval;
}

export interface PatientPrediction {
  patient: string;
  label: ClassLabel;
  predicted: ClassLabel;
}

/** Per-patient correct counts, patients in sorted order so output is stable. */
export function patientScores(predictions: readonly PatientPrediction[]): PatientScore[] {
  const byPatient = new Map<string, { images: number; correct: number }>();
  for (const p of predictions) {
    const entry = byPatient.get(p.patient) ?? { images: 0, correct: 0 };
    entry.images++;
    if (p.label === p.predicted) entry.correct++;
    byPatient.set(p.patient, entry);
  }
  return [...byPatient.keys()]
    .sort()
    .map((patient) => {
      const { images, correct } = byPatient.get(patient)!;
      return { patient, images, correct, rate: correct / images };
    });
}

function meanRate(scores: readonly PatientScore[]): number {
  let sum = 0;
  for (const s of scores) sum += s.rate;
  return sum / scores.length;
}

/**
 * Fewest patients for which the interval is a percentile bootstrap. Below it the bootstrap's
 * resamples are drawn from too few distinct values to show the uncertainty (its coverage falls
 * well under nominal for small n), so the Wilson interval is used instead.
 */
export const PATIENT_BOOTSTRAP_MIN = 30;

/**
 * Interval of the mean of per-patient rates. Below PATIENT_BOOTSTRAP_MIN patients: Wilson with one
 * trial per patient and rate × patients successes. Each patient's rate lies in [0, 1], so its
 * variance is at most that of a 0/1 outcome with the same mean: counting each patient as one
 * Bernoulli trial can only overstate the spread, never understate it.
 */
export function patientRateInterval(patients: readonly PatientScore[], bootstrap: BootstrapOptions = {}): ConfidenceInterval {
  if (patients.length >= PATIENT_BOOTSTRAP_MIN) return bootstrapPercentileCi(patients, meanRate, bootstrap);
  return wilsonInterval(meanRate(patients) * patients.length, patients.length, bootstrap.level);
}

/** Patient-level recognition rate with its interval over patients (see patientRateInterval). */
export function patientLevelRecognition(
  predictions: readonly PatientPrediction[],
  bootstrap: BootstrapOptions = {},
): PatientLevelResult {
  if (predictions.length === 0) throw new RangeError('Expected at least one prediction but received none');
  const patients = patientScores(predictions);
  return {
    recognitionRate: meanRate(patients),
    patients,
    confidenceInterval: patientRateInterval(patients, bootstrap),
  };
}

/** One line for people: which interval, over how many patients, and why when it is Wilson. */
export function describeInterval(ci: ConfidenceInterval, patients: number): string {
  const level = `${Math.round(100 * ci.level)}%`;
  if (ci.method === 'wilson') {
    return `${level} Wilson score interval over ${patients} patient${patients === 1 ? '' : 's'} ` +
      `(fewer than ${PATIENT_BOOTSTRAP_MIN}, too few for a bootstrap)`;
  }
  return `${level} percentile bootstrap over ${patients} patients (${ci.resamples} resamples, seed ${ci.seed})`;
}
