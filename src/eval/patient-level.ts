// Patient-level recognition rate, the BreakHis authors' measure (Spanhol et al. 2016): for each
// patient the share of their images classified correctly, averaged over patients, so a patient
// with many images does not outweigh one with few. Its interval resamples patients, the
// independent units, not images.
import { bootstrapPercentileCi, BootstrapOptions, ConfidenceInterval } from './bootstrap';
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

/** Patient-level recognition rate with a seeded percentile-bootstrap interval over patients. */
export function patientLevelRecognition(
  predictions: readonly PatientPrediction[],
  bootstrap: BootstrapOptions = {},
): PatientLevelResult {
  if (predictions.length === 0) throw new RangeError('Expected at least one prediction but received none');
  const patients = patientScores(predictions);
  return {
    recognitionRate: meanRate(patients),
    patients,
    confidenceInterval: bootstrapPercentileCi(patients, meanRate, bootstrap),
  };
}
