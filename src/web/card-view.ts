// How a model card reads on its page: commands as code, dates in words, "none" instead of a raw
// null, and plots under titles a person understands rather than their file names.
import type { ModelCard } from '../eval/model-card';
import { measuredPrecision, trainedPrecision } from '../infer/prediction';

const PLOT_TITLES: Record<string, string> = {
  accuracy: 'Accuracy per epoch (training and validation)',
  loss: 'Loss per epoch (training and validation)',
  'confusion-matrix': 'Confusion matrix on the test split',
  roc: 'ROC curve on the test split, with the operating point',
  reliability: 'Reliability diagram (calibration) on the test split',
};

/** `roc.svg` → "ROC curve on the test split, …"; unknown names are made readable. */
export function plotTitle(name: string): string {
  const stem = name.replace(/\.(svg|png)$/i, '');
  return PLOT_TITLES[stem] ?? stem.replace(/[-_]+/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** An ISO timestamp as "1 January 2025, 14:03 UTC"; anything else as given. */
export function readableDate(value: unknown): string {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) return value === null || value === undefined ? 'unknown' : String(value);
  const day = date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  const time = date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  return `${day}, ${time} UTC`;
}

/** A recipe or card value as text: null as "none", lists joined, objects as key: value pairs. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'none';
  if (Array.isArray(value)) return value.length ? value.map(formatValue).join(', ') : 'none';
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${formatValue(v)}`).join('; ') || 'none';
  return String(value);
}

/** A sentence with `backticked` commands split into text and code parts, for <code> without backticks. */
export function textAndCode(sentence: string): { text: string; code: boolean }[] {
  return sentence.split('`').map((text, i) => ({ text, code: i % 2 === 1 })).filter((part) => part.text !== '');
}

/** The card page's sentence (with `code`) when its metrics were measured in another precision than training's, else null. */
export function measuredPrecisionNote(card: ModelCard): string | null {
  const [measured, trained] = [measuredPrecision(card), trainedPrecision(card)];
  return measured === trained ? null
    : `Measured with the model running in ${measured} (trained in ${trained}); it is served in ${measured} unless the server is started with another \`--precision\`.`;
}

export const cardView = { plotTitle, readableDate, formatValue, textAndCode, measuredPrecisionNote };
