// What the page and GET /api/models show about a model, taken only from its card's test-split
// evaluation: so every number on screen traces to models/<mag>/card.json.
import { describeInterval } from '../eval';
import { DEMO_WARNING, type ModelCard, type ModelSlot, type ModelStatus } from '../infer';

export interface ModelSummary {
  magnification: ModelSlot;
  installed: true;
  loaded: boolean;
  modelId: string;
  demo: boolean;
  warning?: string;
  createdAt: string;
  threshold: number;
  /** The card has a Grad-CAM gallery of test images (shown on its page). */
  gallery: boolean;
  test: {
    images: number;
    benign: number;
    malignant: number;
    patients: number;
    accuracy: number;
    weightedF1: number;
    sensitivity: number;
    specificity: number;
    rocAuc: number | null;
    /** `method` 'wilson' below 30 patients, 'percentile-bootstrap' from there; `interval` says so in words. */
    patientLevel: { recognitionRate: number; lower: number; upper: number; level: number; method: string; interval: string };
    /** Rows = true class, columns = predicted class, malignant first: [[TP, FN], [FP, TN]]. */
    confusionMatrix: { tp: number; fn: number; fp: number; tn: number };
  };
}

export interface MissingSummary {
  magnification: ModelSlot;
  installed: false;
  message: string;
}

export function summariseCard(magnification: ModelSlot, card: ModelCard, loaded: boolean): ModelSummary {
  const t = card.metrics.test;
  const ci = t.patientLevel.confidenceInterval;
  return {
    magnification,
    installed: true,
    loaded,
    modelId: card.id,
    demo: card.demo === true,
    ...(card.demo ? { warning: DEMO_WARNING } : {}),
    createdAt: card.createdAt,
    threshold: card.threshold,
    gallery: Object.keys(card.gallery ?? {}).length > 0,
    test: {
      images: t.counts.images,
      benign: t.counts.benign,
      malignant: t.counts.malignant,
      patients: t.counts.patients,
      accuracy: t.metrics.accuracy,
      weightedF1: t.metrics.weightedF1,
      sensitivity: t.metrics.sensitivity,
      specificity: t.metrics.specificity,
      rocAuc: t.roc?.auc ?? null,
      patientLevel: {
        recognitionRate: t.patientLevel.recognitionRate, lower: ci.lower, upper: ci.upper, level: ci.level,
        method: ci.method, interval: describeInterval(ci, t.counts.patients),
      },
      confusionMatrix: { tp: t.confusionMatrix.tp, fn: t.confusionMatrix.fn, fp: t.confusionMatrix.fp, tn: t.confusionMatrix.tn },
    },
  };
}

export function summariseStatus(status: ModelStatus): ModelSummary | MissingSummary {
  return status.installed
    ? summariseCard(status.magnification, status.card, status.loaded)
    : { magnification: status.magnification, installed: false, message: status.reason };
}
