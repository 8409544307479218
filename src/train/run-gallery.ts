// The Grad-CAM gallery of an evaluation, written to <dir>/gallery/: a seeded sample of test images
// per class and the highest-loss test images ("top losses"), each as an overlay JPEG, both as a
// sheet (SVG + palette PNG) and a CSV, with errors per subtype, and gallery.json describing it
// all. Maps come from the model's batched native Grad-CAM (Model.gradcamBatch); the
// labels and probabilities shown are the evaluation's own predictions. The folder is built under a
// temporary name and swapped in, so a re-evaluation never leaves a mix of two galleries.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '../data';
import {
  applyThreshold, captionLines, GALLERY_LOSS, type GalleryItem, galleryItemsCsv, imageCrossEntropy, renderGalleryPictures,
  renderGallerySheetSvg, selectGallery, sheetPng, subtypeErrors, subtypeErrorsCsv, topLosses, type GalleryTile,
  type GalleryPictures,
} from '../eval';
import type { Model } from '../native';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import type { EntryPrediction } from './predict-entries';
import type { GalleryPlan } from './recipe';

export const GALLERY_DIR = 'gallery';
/** Heatmap weight in the overlays (as `histoscope gradcam`'s default). */
const OPACITY = 0.45;

export interface GalleryOptions {
  plan: GalleryPlan;
  seed: number;
  /** Folder the entries' paths are relative to. */
  root: string;
  imageSize: number;
  /** Images per Grad-CAM call. */
  batchSize: number;
  threshold: number;
  /** e.g. the magnification, shown in the sheets' titles. */
  title: string;
  signal?: AbortSignal;
}

/** File name → path relative to the folder holding gallery/ (as metrics.json and card.json list them). */
export type GalleryFiles = Record<string, string>;

export interface GalleryIndex {
  seed: number;
  plan: GalleryPlan;
  threshold: number;
  loss: typeof GALLERY_LOSS;
  gradcamTarget: 'predicted class at the threshold';
  opacity: number;
  sample: GalleryItem[];
  topLosses: GalleryItem[];
  subtypeErrors: ReturnType<typeof subtypeErrors>;
  seconds: number;
}

const safeStem = (p: string): string => path.basename(p, path.extname(p)).replace(/[^A-Za-z0-9._-]/g, '_');

/**
 * Grad-CAM of the test images `indices`, each for its predicted class, drawn over the original:
 * decoded at the model's size as evaluation saw them, mapped `batchSize` at a time.
 */
async function picturesOf(model: Model, preds: readonly EntryPrediction[], predicted: readonly (0 | 1)[], indices: readonly number[],
  o: GalleryOptions): Promise<Map<number, GalleryPictures>> {
  const out = new Map<number, GalleryPictures>();
  for (let start = 0; start < indices.length; start += o.batchSize) {
    o.signal?.throwIfAborted();
    const chunk = indices.slice(start, start + o.batchSize);
    const files = chunk.map((i) => path.join(o.root, preds[i].path));
    const seen = await Promise.all(files.map((file) => decodeImage(file, { size: o.imageSize, fit: 'fill' })));
    const data = new Uint8Array(seen.length * o.imageSize * o.imageSize * 3);
    seen.forEach((s, k) => data.set(s.data, k * s.data.length));
    const cams = await model.gradcamBatch({ data, shape: [chunk.length, o.imageSize, o.imageSize, 3] }, { targetClasses: chunk.map((i) => predicted[i]) });
    const pictures = await Promise.all(chunk.map((_, k) => renderGalleryPictures(files[k], { width: seen[k].originalWidth, height: seen[k].originalHeight }, cams[k], OPACITY)));
    chunk.forEach((i, k) => out.set(i, pictures[k]));
  }
  return out;
}

async function swapIn(tmp: string, target: string): Promise<void> {
  const old = `${path.join(path.dirname(target), `.${path.basename(target)}`)}.old-${process.pid}-${Date.now()}`;
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  fs.renameSync(tmp, target);
  if (hadOld) await fs.promises.rm(old, { recursive: true, force: true });
}

/** Writes `<dir>/gallery/` for the test predictions `preds`; returns its files. */
export async function writeRunGallery(model: Model, dir: string, preds: readonly EntryPrediction[], o: GalleryOptions): Promise<GalleryFiles> {
  const started = performance.now();
  const predicted = applyThreshold(preds.map((p) => p.probMalignant), o.threshold);
  const sample = selectGallery(preds, { perClass: o.plan.perClass, seed: o.seed });
  const losses = topLosses(preds, o.plan.topLosses).map((r) => r.index);
  const target = path.join(dir, GALLERY_DIR);
  const tmp = `${path.join(dir, `.${GALLERY_DIR}`)}.new-${process.pid}-${Date.now()}`;
  fs.mkdirSync(path.join(tmp, 'overlays'), { recursive: true });
  try {
    // An image in both galleries is computed once.
    const pictures = await picturesOf(model, preds, predicted, [...new Set([...sample, ...losses])], o);
    const itemsOf = async (indices: number[], kind: string): Promise<{ items: GalleryItem[]; tiles: GalleryTile[] }> => {
      const items: GalleryItem[] = [];
      const tiles: GalleryTile[] = [];
      for (const [n, i] of indices.entries()) {
        const p = preds[i];
        const pics = pictures.get(i)!;
        const item: GalleryItem = {
          rank: n + 1, path: p.path, patient: p.patient, subtype: p.subtype ?? '', label: p.label, predicted: predicted[i],
          probMalignant: p.probMalignant, loss: imageCrossEntropy(p.probabilities, p.label),
          overlay: `${kind}-${String(n + 1).padStart(2, '0')}-${safeStem(p.path)}.jpg`,
        };
        await writeFileAtomic(path.join(tmp, 'overlays', item.overlay), pics.overlayJpeg);
        items.push(item);
        tiles.push({
          originalJpeg: pics.thumbOriginalJpeg, overlayJpeg: pics.thumbOverlayJpeg, width: pics.thumbWidth, height: pics.thumbHeight,
          lines: captionLines(item, kind === 'loss'), mistake: item.label !== item.predicted,
        });
      }
      return { items, tiles };
    };
    const shown = await itemsOf(sample, 'sample');
    const worst = await itemsOf(losses, 'loss');
    const errors = subtypeErrors(preds, o.threshold);
    const t = o.title ? ` (${o.title})` : '';
    const note = `Grad-CAM for the predicted class at threshold ${o.threshold.toFixed(3)}; viridis, dark = low, yellow = high.`;
    const sheets: [string, string][] = [
      ['gallery', renderGallerySheetSvg(shown.tiles, { title: `Test images, ${o.plan.perClass} per class, seed ${o.seed}${t}`, subtitle: note })],
      ['top-losses', renderGallerySheetSvg(worst.tiles, {
        title: `Top ${worst.items.length} losses on test${t}: ${GALLERY_LOSS}`, subtitle: note,
        side: { title: 'Test errors per subtype', header: ['Subtype', 'Images', 'Errors'], rows: errors.map((e) => [e.subtype, e.images, e.errors]) },
      })],
    ];
    for (const [name, svg] of sheets) {
      await writeFileAtomic(path.join(tmp, `${name}.svg`), svg);
      await writeFileAtomic(path.join(tmp, `${name}.png`), await sheetPng(svg));
    }
    await writeFileAtomic(path.join(tmp, 'gallery.csv'), galleryItemsCsv(shown.items));
    await writeFileAtomic(path.join(tmp, 'top-losses.csv'), galleryItemsCsv(worst.items));
    await writeFileAtomic(path.join(tmp, 'subtype-errors.csv'), subtypeErrorsCsv(errors));
    const index: GalleryIndex = {
      seed: o.seed, plan: o.plan, threshold: o.threshold, loss: GALLERY_LOSS, gradcamTarget: 'predicted class at the threshold', opacity: OPACITY,
      sample: shown.items, topLosses: worst.items, subtypeErrors: errors, seconds: (performance.now() - started) / 1000,
    };
    await writeJsonAtomic(path.join(tmp, 'gallery.json'), index);
    await swapIn(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return galleryFiles(dir);
}

/** Every file of `<dir>/gallery/` by its name (names are unique across it and overlays/). */
export function galleryFiles(dir: string): GalleryFiles {
  const files: GalleryFiles = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile() && !e.name.startsWith('.')) files[e.name] = child;
    }
  };
  walk(GALLERY_DIR);
  return files;
}
