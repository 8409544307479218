// The stain-robustness report: test metrics of one model under controlled HED stain shifts of
// several strengths, with and without its stain normalisation (and with the other normaliser),
// as rows, a markdown table and the summary a model card shows.
import type { Precision } from '../native';
import { formatMarkdownTable, type TableColumn } from './markdown-table';

/** How the inputs of one condition were normalised: the model's own target, none, or another fitted one. */
export interface StainShiftCondition {
  /** 'macenko' | 'reinhard' | 'none'. */
  normalisation: string;
  role: 'model' | 'without' | 'other';
}

export interface StainShiftRow extends StainShiftCondition {
  /** HED perturbation strength: per-stain scale U(1-s, 1+s) and shift U(-s, s) in optical density. */
  strength: number;
  images: number;
  accuracy: number;
  weightedF1: number;
  /** null when the test split holds one class only. */
  auc: number | null;
  /** Images the normaliser left unchanged (no tissue). */
  stainFallbacks: number;
}

export interface StainShiftReport {
  run: string;
  /** The run's normalisation ('none' when it trained without). */
  modelNormalisation: string;
  strengths: number[];
  /** Seed of the perturbations: the same seed gives the same shifted images. */
  seed: number;
  /** Threshold on P(malignant), the run's own (chosen on validation). */
  threshold: number;
  rows: StainShiftRow[];
  /** Plot files relative to the run folder. */
  plots: Record<string, string>;
  evaluatedAt: string;
  /** The precision the model ran in (absent in reports from before it: the recipe's). */
  precision?: Precision;
}

export function conditionLabel(c: StainShiftCondition): string {
  if (c.role === 'model') return c.normalisation === 'none' ? 'as trained (no normalisation)' : `model's ${c.normalisation}`;
  if (c.role === 'without') return 'without normalisation';
  return `${c.normalisation} (fitted for this report)`;
}

const COLUMNS: TableColumn<StainShiftRow>[] = [
  { header: 'HED strength', value: (r) => r.strength, align: 'right' },
  { header: 'normalisation', value: (r) => conditionLabel(r) },
  { header: 'accuracy', value: (r) => r.accuracy, align: 'right', digits: 3 },
  { header: 'weighted F1', value: (r) => r.weightedF1, align: 'right', digits: 3 },
  { header: 'ROC-AUC', value: (r) => r.auc, align: 'right', digits: 3 },
  { header: 'fallbacks', value: (r) => r.stainFallbacks, align: 'right' },
];

/** One row per (strength, condition), strengths ascending. */
export function formatStainShiftTable(report: Pick<StainShiftReport, 'rows'>): string {
  const rows = [...report.rows].sort((a, b) => a.strength - b.strength);
  return formatMarkdownTable(COLUMNS, rows);
}

/** The whole report as markdown: what was done, then the table. */
export function formatStainShiftMarkdown(report: StainShiftReport): string {
  return [
    `# Stain shift: ${report.run}`,
    '',
    `Test split under seeded HED perturbations (seed ${report.seed}): each image's haematoxylin, eosin and DAB optical ` +
      'densities scaled by U(1-s, 1+s) and shifted by U(-s, s), then normalised as stated, at the run\'s threshold ' +
      `${report.threshold.toFixed(3)}. The model was trained with ${report.modelNormalisation === 'none' ? 'no stain normalisation' : `${report.modelNormalisation} normalisation`}.`,
    '',
    formatStainShiftTable(report),
    '',
  ].join('\n');
}
