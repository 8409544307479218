// The model card: what `histoscope promote` writes beside an installed model (models/<mag>/card.json)
// and what prediction, the CLI and the web UI read to show a model's provenance and metrics.
// Every number a user sees about a model traces to this file. It lives in src/eval, the lowest
// layer that can hold it: it embeds eval's EvaluationReport (so not src/data), and both train
// (which writes it) and infer (which reads it) may import eval but not each other.
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Magnification } from '../data';
import type { Precision } from '../native';
import type { EvaluationReport } from './evaluation-report';
import type { FaithfulnessSummary } from './faithfulness';
import type { StainShiftReport } from './stain-shift-report';

export const MODEL_CARD_SCHEMA = 1;
export const MODEL_FILE = 'model.pt';
export const CARD_FILE = 'card.json';

/** Where an installed model lives: models/<mag>/ (or models/pooled/ for the all-magnification model). */
export type ModelSlot = Magnification | 'pooled';

export interface ModelCard {
  schema: typeof MODEL_CARD_SCHEMA;
  /** Stable identifier shown in predictions: `<slot>-<run id>`. */
  id: string;
  magnification: ModelSlot;
  /** True when trained on the synthetic generator's images: never for use on patients. */
  demo: boolean;
  createdAt: string;
  classNames: ['benign', 'malignant'];
  /** Decision threshold on P(malignant), chosen on the validation split. */
  threshold: number;
  /** The fully resolved training configuration of the run (config.json). */
  recipe: Record<string, unknown>;
  data: {
    /** Dataset root as given to training (for people; never used to find files). */
    source: string;
    synthetic: boolean;
    manifestHash: string;
    splitHash: string;
    /** Images per part and class actually used. */
    counts: Record<'train' | 'val' | 'test', { benign: number; malignant: number; patients: number }>;
    /** Median original size of the training images (cards before it: BreakHis's 700×460). */
    imageSize?: { width: number; height: number };
  };
  weights: {
    /** 'imagenet' (with the file name) or 'none'. */
    initial: string;
    initialSha256: string | null;
    /** sha256 of models/<slot>/model.pt. */
    modelSha256: string;
    bestEpoch: number;
  };
  metrics: {
    test: EvaluationReport;
    validation: { accuracy: number; weightedF1: number; loss: number };
    /** Explanation faithfulness on a test sample, when `evaluate --faithfulness N` computed it. */
    faithfulness?: FaithfulnessSummary;
    /** The precision the model ran in for these metrics (`evaluate --precision`); absent: the recipe's. */
    precision?: Precision;
  };
  /**
   * The stain normalisation the model applies to every input (also inside model.pt, which is what
   * applies it); absent on cards written before stain normalisation existed, which means none.
   */
  stain?: { method: string; values: number[]; fittedTo: string | null; images: number };
  /** How the test metrics move under controlled stain shifts (`histoscope evaluate RUN --stain-shift`). */
  stainShift?: StainShiftReport;
  /** Plot files relative to the card's folder (PNG and SVG), e.g. plots/confusion-matrix.svg. */
  plots: Record<string, string>;
  /** Grad-CAM gallery files by name, relative to the card's folder (gallery/gallery.png, gallery/overlays/…); absent when the run wrote none. */
  gallery?: Record<string, string>;
  /** The run folder it was promoted from, relative to the working directory at promotion. */
  run: string;
}

export class ModelCardError extends Error {
  override name = 'ModelCardError';
}

/** Reads and checks models/<slot>/card.json; the error names the file and the command that fixes it. */
export function readModelCard(dir: string): ModelCard {
  const file = path.join(dir, CARD_FILE);
  let card: ModelCard;
  try {
    card = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelCard;
  } catch (err) {
    throw new ModelCardError(`Cannot read the model card ${file} (${(err as Error).message}). ` +
      'Install a model with `histoscope promote RUN`.');
  }
  if (card.schema !== MODEL_CARD_SCHEMA || typeof card.threshold !== 'number' || !card.metrics?.test) {
    throw new ModelCardError(`The model card ${file} is not a Histoscope model card of schema ${MODEL_CARD_SCHEMA}. ` +
      'Promote the run again with `histoscope promote RUN`.');
  }
  if (!fs.existsSync(path.join(dir, MODEL_FILE))) {
    throw new ModelCardError(`The model file ${path.join(dir, MODEL_FILE)} is missing beside its card. ` +
      'Promote the run again with `histoscope promote RUN`.');
  }
  return card;
}
