// One call from predictions to every number the study reports, as a JSON-serialisable object
// that is written next to the run (metrics.json) and read by plots, tables and model cards.
import { BootstrapOptions } from './bootstrap';
import { calibration, CalibrationResult, DEFAULT_ECE_BINS } from './calibration';
import { classificationMetrics, ClassificationMetrics } from './classification-metrics';
import { confusionMatrix, ConfusionMatrix } from './confusion-matrix';
import { patientLevelRecognition, PatientLevelResult } from './patient-level';
import { PredictionRecord, validatePredictionRecords } from './prediction-record';
import { rocAuc, rocCurve, RocPoint } from './roc';
import { subtypeAccuracy, SubtypeAccuracy } from './subtype-accuracy';
import { applyThreshold, DEFAULT_THRESHOLD } from './threshold';

export interface EvaluationOptions {
  /** Decision threshold on P(malignant), chosen on validation; 0.5 by default. */
  threshold?: number;
  /** Bootstrap settings of the patient-level interval (2000 resamples, seed 0, 95% by default). */
  bootstrap?: BootstrapOptions;
  /** Number of equal-width ECE bins; 15 by default. */
  eceBins?: number;
}

export interface EvaluationReport {
  threshold: number;
  counts: { images: number; benign: number; malignant: number; patients: number };
  confusionMatrix: ConfusionMatrix;
  metrics: ClassificationMetrics;
  roc: {
    /** null when only one class is present, where ROC-AUC is undefined. */
    auc: number | null;
    points: RocPoint[];
  };
  calibration: CalibrationResult;
  patientLevel: PatientLevelResult;
  subtypes: SubtypeAccuracy;
}

/** Validates `records` and computes the full evaluation at `options.threshold`. */
export function evaluatePredictions(
  records: readonly PredictionRecord[],
  options: EvaluationOptions = {},
): EvaluationReport {
  validatePredictionRecords(records);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const labels = records.map((r) => r.label);
  const probs = records.map((r) => r.probMalignant);
  const predicted = applyThreshold(probs, threshold);
  const cm = confusionMatrix(labels, predicted);
  const bothClasses = cm.malignant > 0 && cm.benign > 0;
  const patientLevel = patientLevelRecognition(
    records.map((r, i) => ({ patient: r.patient, label: r.label, predicted: predicted[i] })),
    options.bootstrap,
  );
  return {
    threshold,
    counts: { images: cm.total, benign: cm.benign, malignant: cm.malignant, patients: patientLevel.patients.length },
    confusionMatrix: cm,
    metrics: classificationMetrics(cm),
    roc: bothClasses ? { auc: rocAuc(labels, probs), points: rocCurve(labels, probs) } : { auc: null, points: [] },
    calibration: calibration(labels, probs, options.eceBins ?? DEFAULT_ECE_BINS),
    patientLevel,
    subtypes: subtypeAccuracy(records.map((r, i) => ({ subtype: r.subtype, label: r.label, predicted: predicted[i] }))),
  };
}
