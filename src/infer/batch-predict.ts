// `histoscope predict` as a library function: many files → one row each, grouped by magnification
// and run in batches. Inputs are read under the web API's input policy (see expand-inputs.ts). A
// file that cannot be read or is refused, has no known magnification, or whose model is missing
// becomes an error row; the batch goes on.
import * as os from 'node:os';
import * as path from 'node:path';

import { type DecodedCache, type Magnification, mapWithConcurrency, type Progress, sharedDecodedCache, silentProgress } from '../data';
import { DEFAULT_MAX_INPUT_PIXELS } from '../data/image-input-policy';
import type { ModelSlot } from '../eval/model-card';
import type { RgbImage } from './dihedral';
import { expandInputs, inputProblem, isPlainFile, readInputFile } from './expand-inputs';
import { magnificationFor } from './file-magnification';
import type { CamMethod, Precision } from '../native';
import { renderGradcam } from './gradcam-image';
import { type ImageWarning, inputWarnings } from './input-warnings';
import { decodeForModel, MODEL_FIT } from './model-input';
import { type LoadedModel, MissingModelError, ModelRegistry } from './model-registry';
import { type ImagePredictions, predictImagesDetailed } from './predict-images';
import { type Label, toPrediction } from './prediction';
import { getThreads } from '../native';
import { writeFileAtomic } from '../util/atomic-write';

export interface PredictionRow {
  path: string;
  magnification: ModelSlot | '';
  probabilityMalignant: number | null;
  label: Label | '';
  threshold: number | null;
  modelId: string;
  /** True when the model was trained on synthetic images (never for patients). */
  demo: boolean;
  tta: boolean;
  /** Overlay PNG written for this file, when --gradcam was given. */
  gradcam: string;
  /** How that overlay was made ('' without --gradcam). */
  gradcamMethod: CamMethod | '';
  /** Precision the probability was computed in ('' for error rows); the warning says when it is not the training's. */
  precision: Precision | '';
  warning: string;
  /** Out-of-distribution warnings (src/data/ood/): the prediction stands but may mean little. */
  warnings: ImageWarning[];
  error: string;
}

export interface PredictFilesOptions {
  inputs: readonly string[];
  /** Model to use for every file; a BreakHis name that disagrees makes that file an error row. */
  magnification?: Magnification;
  /** Where models/<mag>/ live (ignored when `registry` is given). */
  modelsDir?: string;
  /** Precision the models run in (ignored when `registry` is given); default: each checkpoint's own. */
  precision?: Precision;
  registry?: ModelRegistry;
  /** Images per forward pass; default 32 on CUDA, 8 on CPU (see defaultBatchSize). */
  batchSize?: number;
  tta?: boolean;
  /** Folder for Grad-CAM overlays and heatmaps (one pair per file). */
  gradcamDir?: string;
  /** Grad-CAM (default) or Grad-CAM++ for those overlays. */
  gradcamMethod?: CamMethod;
  opacity?: number;
  /** Files decoded at once. */
  concurrency?: number;
  /** Persistent decoded-image cache: 'auto' (default), 'off', or a folder. */
  decodeCache?: string;
  /**
   * Decode the next chunk while this one runs: default when decoding has cores of its own (a GPU
   * model, or more cores than the compute thread's intra-op threads). On a CPU whose cores all run
   * inference, decode threads would only preempt the inference threads.
   */
  overlapDecode?: boolean;
  progress?: (total: number) => Progress;
}

export interface PredictFilesResult {
  rows: PredictionRow[];
  summary: { files: number; predicted: number; errors: number; demo: boolean; seconds: number; imagesPerSecond: number };
}

/**
 * Forward-pass size when none is given. On CPU, ResNet-50 at 224 px measured about 120 ms per
 * image in batches of 1 to 8 but about 360 ms per image in batches of 32 (activations outgrow the
 * caches), so CPU uses 8; GPUs want large batches.
 */
export function defaultBatchSize(loaded: LoadedModel): number {
  return loaded.model.info().device.startsWith('cuda') ? 32 : 8;
}

function errorRow(file: string, error: string, magnification: ModelSlot | '' = '', tta = false): PredictionRow {
  return {
    path: file, magnification, probabilityMalignant: null, label: '', threshold: null, modelId: '', demo: false, tta,
    gradcam: '', gradcamMethod: '', precision: '', warning: '', warnings: [], error,
  };
}

function message(err: unknown): string {
  return (err as Error).message.split('\n')[0];
}

/** Unique, readable output names: SOB_..-001.png → SOB_..-001.overlay.png, with -2, -3 on repeats. */
function gradcamNamer(dir: string): (file: string) => { overlay: string; heatmap: string } {
  const used = new Map<string, number>();
  return (file) => {
    const stem = path.basename(file).replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_');
    const n = (used.get(stem) ?? 0) + 1;
    used.set(stem, n);
    const base = path.join(dir, n === 1 ? stem : `${stem}-${n}`);
    return { overlay: `${base}.overlay.png`, heatmap: `${base}.heatmap.png` };
  };
}

export async function predictFiles(options: PredictFilesOptions): Promise<PredictFilesResult> {
  const started = Date.now();
  const registry = options.registry ?? new ModelRegistry({ modelsDir: options.modelsDir ?? 'models', precision: options.precision });
  const tta = options.tta === true;
  // Files decoded per step (and per progress tick); forward passes are split to the batch size.
  const chunkSize = Math.max(options.batchSize ?? 0, 32);
  const concurrency = options.concurrency ?? 2;
  const cache = sharedDecodedCache(options.decodeCache);
  const { files, unmatched } = await expandInputs(options.inputs);
  const rows = new Map<string, PredictionRow>();
  for (const u of unmatched) rows.set(u.input, errorRow(u.input, u.reason));

  const groups = new Map<Magnification, string[]>();
  for (const file of files) {
    const choice = magnificationFor(file, options.magnification);
    // The most basic problem first: a missing file or a pipe is reported as such, whatever its name says.
    const problem = inputProblem(file);
    if (problem) rows.set(file, errorRow(file, problem, '', tta));
    else if (!choice.ok) rows.set(file, errorRow(file, choice.error, '', tta));
    else groups.set(choice.magnification, [...(groups.get(choice.magnification) ?? []), file]);
  }

  const progress = (options.progress ?? (() => silentProgress))(files.length);
  let done = rows.size - unmatched.length;
  const namer = options.gradcamDir ? gradcamNamer(options.gradcamDir) : undefined;
  try {
    for (const [mag, group] of groups) {
      let loaded: LoadedModel;
      try {
        loaded = await registry.get(mag);
      } catch (err) {
        const reason = err instanceof MissingModelError ? err.message : `The ${mag} model could not be loaded (${message(err)}).`;
        for (const file of group) rows.set(file, errorRow(file, reason, mag, tta));
        done += group.length;
        progress.tick(done);
        continue;
      }
      const batchSize = options.batchSize ?? defaultBatchSize(loaded);
      const decodeOptions = { tta, concurrency, cache };
      const decode = (from: number): Promise<DecodedChunk> => decodeChunk(loaded, group.slice(from, from + chunkSize), decodeOptions, rows);
      const overlap = options.overlapDecode ?? (loaded.model.info().device.startsWith('cuda') || os.availableParallelism() > getThreads());
      // With overlap, chunk k+1 decodes (on libuv's pool) while chunk k runs on the compute thread.
      let next: Promise<DecodedChunk> | undefined = decode(0);
      for (let i = 0; i < group.length; i += chunkSize) {
        const chunk: DecodedChunk = await (next ?? decode(i));
        next = overlap && i + chunkSize < group.length ? decode(i + chunkSize) : undefined;
        await predictDecoded(loaded, chunk, { tta, batchSize }, rows);
        const inputs = chunk.inputs;
        if (namer) {
          await mapWithConcurrency(group.slice(i, i + chunkSize), 1, async (file) => {
            const row = rows.get(file)!;
            if (row.error) return;
            try {
              const names = namer(file);
              const target = row.label === 'malignant' ? 1 : 0;
              // The bytes already read: a pipe cannot be read twice.
              const pictures = await renderGradcam(loaded, inputs.get(file)!, {
                ...readOptions(file), targetClass: target, opacity: options.opacity, method: options.gradcamMethod,
              });
              await writeFileAtomic(names.overlay, pictures.overlayPng);
              await writeFileAtomic(names.heatmap, pictures.heatmapPng);
              row.gradcam = names.overlay;
              row.gradcamMethod = pictures.method;
            } catch (err) {
              row.warning = [row.warning, `Grad-CAM failed: ${message(err)}`].filter(Boolean).join(' ');
            }
          });
        }
        done += Math.min(chunkSize, group.length - i);
        progress.tick(done, mag);
      }
    }
  } finally {
    progress.finish();
    if (!options.registry) registry.dispose();
  }

  const ordered = [...unmatched.map((u) => u.input), ...files].map((f) => rows.get(f)!);
  const predicted = ordered.filter((r) => !r.error).length;
  const seconds = (Date.now() - started) / 1000;
  return {
    rows: ordered,
    summary: {
      files: ordered.length, predicted, errors: ordered.length - predicted,
      demo: ordered.some((r) => r.demo), seconds, imagesPerSecond: seconds > 0 ? predicted / seconds : 0,
    },
  };
}

function readOptions(file: string): { name: string; limitInputPixels: number } {
  return { name: `The file ${file}`, limitInputPixels: DEFAULT_MAX_INPUT_PIXELS };
}

/**
 * decodeForModel of bytes that passed the input policy, through the persistent cache when there
 * is one (regular files only: the cache reads the file again to key it, and a pipe can be read once).
 */
async function decodeCached(loaded: LoadedModel, file: string, bytes: Buffer, cache: DecodedCache | undefined): Promise<RgbImage> {
  if (!cache || !isPlainFile(file)) return decodeForModel(loaded, bytes, readOptions(file));
  const size = loaded.imageSize;
  const data = await cache.getOrDecode(file, { size, fit: MODEL_FIT }, async () => (await decodeForModel(loaded, bytes, readOptions(file))).data);
  return { data, width: size, height: size };
}

interface DecodedChunk {
  /** Files that decoded, with their pixels. */
  ok: { file: string; image: RgbImage }[];
  /** The bytes read, kept for Grad-CAM (a pipe cannot be read twice). */
  inputs: Map<string, Buffer>;
}

/** Reads and decodes the files that pass the input policy; the others become error rows. Never rejects. */
async function decodeChunk(loaded: LoadedModel, files: string[], o: { tta: boolean; concurrency: number; cache?: DecodedCache },
  rows: Map<string, PredictionRow>): Promise<DecodedChunk> {
  const inputs = new Map<string, Buffer>();
  const decoded = await mapWithConcurrency(files, o.concurrency, async (file) => {
    try {
      const bytes = await readInputFile(file);
      inputs.set(file, bytes);
      return await decodeCached(loaded, file, bytes, o.cache);
    } catch (err) {
      rows.set(file, errorRow(file, message(err), loaded.magnification, o.tta));
      return undefined;
    }
  });
  const ok = files.map((file, i) => ({ file, image: decoded[i] })).filter((x): x is { file: string; image: RgbImage } => x.image !== undefined);
  return { ok, inputs };
}

/** Predicts a decoded chunk and fills its rows. */
async function predictDecoded(loaded: LoadedModel, { ok, inputs }: DecodedChunk, o: { tta: boolean; batchSize: number },
  rows: Map<string, PredictionRow>): Promise<void> {
  if (ok.length === 0) return;
  // The OOD checks (headers on libuv's pool, colour statistics here) run while the compute thread predicts.
  const checks = Promise.all(ok.map(({ file, image }) =>
    inputWarnings(loaded.card, inputs.get(file)!, image, DEFAULT_MAX_INPUT_PIXELS).catch(() => [] as ImageWarning[])));
  let predicted: ImagePredictions;
  try {
    predicted = await predictImagesDetailed(loaded, ok.map((x) => x.image), { tta: o.tta, batchSize: o.batchSize });
  } catch (err) {
    for (const { file } of ok) rows.set(file, errorRow(file, `Prediction failed: ${message(err)}`, loaded.magnification, o.tta));
    return;
  }
  const warnings = await checks;
  ok.forEach(({ file }, i) => {
    const p = toPrediction(predicted.probabilities[i], loaded.card, predicted.stainFallback[i], loaded.precision);
    rows.set(file, {
      path: file, magnification: loaded.magnification, probabilityMalignant: p.probabilities.malignant, label: p.label,
      threshold: p.threshold, modelId: p.modelId, demo: p.demo, tta: o.tta, gradcam: '', gradcamMethod: '',
      precision: loaded.precision, warning: [p.warning, p.stainNote, p.precisionNote].filter(Boolean).join(' '), warnings: warnings[i], error: '',
    });
  });
}
