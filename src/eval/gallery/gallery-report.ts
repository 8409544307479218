// What a run's gallery says in words and tables: one record per shown image, its caption, the
// CSV of the top losses (and of the sample), and the errors per subtype at the run's threshold.
import { toCsv } from '../../util/csv';
import type { ClassLabel } from '../prediction-record';
import { subtypeAccuracy } from '../subtype-accuracy';
import { applyThreshold } from '../threshold';

/** How the top losses are ranked (written into gallery.json and the sheet). */
export const GALLERY_LOSS = 'cross-entropy -ln p(true class), unweighted';

const CLASS_NAMES = ['benign', 'malignant'] as const;

export interface GalleryItem {
  /** 1-based position in its gallery. */
  rank: number;
  path: string;
  patient: string;
  subtype: string;
  label: ClassLabel;
  /** At the run's threshold on P(malignant); also the class the Grad-CAM map explains. */
  predicted: ClassLabel;
  probMalignant: number;
  loss: number;
  /** The overlay's file name under gallery/overlays/. */
  overlay: string;
}

export interface SubtypeErrors {
  subtype: string;
  images: number;
  errors: number;
}

export function captionLines(item: GalleryItem, withLoss: boolean): string[] {
  const truth = CLASS_NAMES[item.label];
  const p = `P(malignant) ${item.probMalignant.toFixed(3)}`;
  return [
    item.label === item.predicted ? `#${item.rank} correct: ${truth}` : `#${item.rank} MISTAKE: ${truth} called ${CLASS_NAMES[item.predicted]}`,
    withLoss ? `${p} · loss ${item.loss.toFixed(2)}` : p,
    `patient ${item.patient} · ${item.subtype}`,
  ];
}

const CSV_HEADER = ['rank', 'path', 'patient', 'subtype', 'true_label', 'predicted_label', 'probability_malignant', 'loss', 'overlay'];

export function galleryItemsCsv(items: readonly GalleryItem[]): string {
  return toCsv(CSV_HEADER, items.map((i) => [
    i.rank, i.path, i.patient, i.subtype, CLASS_NAMES[i.label], CLASS_NAMES[i.predicted], i.probMalignant, i.loss, `overlays/${i.overlay}`,
  ]));
}

/** Test images and errors per subtype (study order) at `threshold`. */
export function subtypeErrors(records: readonly { label: ClassLabel; probMalignant: number; subtype?: string }[], threshold: number): SubtypeErrors[] {
  const predicted = applyThreshold(records.map((r) => r.probMalignant), threshold);
  const scores = subtypeAccuracy(records.map((r, i) => ({ subtype: r.subtype, label: r.label, predicted: predicted[i] })));
  return Object.entries(scores).map(([subtype, s]) => ({ subtype, images: s!.images, errors: s!.images - s!.correct }));
}

export function subtypeErrorsCsv(rows: readonly SubtypeErrors[]): string {
  return toCsv(['subtype', 'images', 'errors'], rows.map((r) => [r.subtype, r.images, r.errors]));
}
