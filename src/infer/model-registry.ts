// Installed models by magnification (models/<mag>/): each is loaded once, on first use, and kept.
// Requests arriving while a model loads share that one load; a failed load is forgotten so the
// next request can retry after the files are fixed. Slots with no model are reported with the
// commands that make one, and never stop the other magnifications from working. A promoted pooled
// model (models/pooled/, trained on every magnification) is served as one more slot, "any
// magnification", when it is installed.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MAGNIFICATIONS } from '../data';
import { Model, type Precision } from '../native';
import { sha256File } from '../util/sha256-file';
import { CARD_FILE, MODEL_FILE, type ModelCard, ModelCardError, type ModelSlot, readModelCard } from '../eval/model-card';
import { measuredPrecision } from './prediction';
import { trainCommandHint } from './train-hint';

export interface LoadedModel {
  magnification: ModelSlot;
  model: Model;
  card: ModelCard;
  /** Side of the square model input, from the checkpoint. */
  imageSize: number;
  /** The precision it runs in: the registry's `precision`, else the one its card was measured in. */
  precision: Precision;
}

export type ModelStatus =
  | { magnification: ModelSlot; installed: true; loaded: boolean; card: ModelCard }
  | { magnification: ModelSlot; installed: false; reason: string };

export interface RegistryOptions {
  modelsDir: string;
  /** Where models run: 'auto' (CUDA when available), 'cpu', 'cuda'. */
  device?: string;
  /** Check model.pt against the sha256 on its card before trusting it (default true). */
  verifyChecksum?: boolean;
  /** Precision every model runs in (bf16: ~2-3× faster on CPUs with AMX); default: the one its card was measured in. */
  precision?: Precision;
}

/**
 * A magnification has no usable model. `message` is safe to show anyone (no paths);
 * `detail` adds the file-level cause for logs and the terminal.
 */
export class MissingModelError extends Error {
  override name = 'MissingModelError';
  constructor(readonly magnification: ModelSlot, message: string, readonly detail: string) {
    super(message);
  }
}

export class ModelRegistry {
  readonly modelsDir: string;
  private readonly device: string;
  private readonly verifyChecksum: boolean;
  private readonly precision?: Precision;
  private readonly loads = new Map<ModelSlot, Promise<LoadedModel>>();
  private readonly loaded = new Map<ModelSlot, LoadedModel>();
  private disposed = false;

  constructor(options: RegistryOptions) {
    this.modelsDir = path.resolve(options.modelsDir);
    this.device = options.device ?? 'auto';
    this.verifyChecksum = options.verifyChecksum ?? true;
    this.precision = options.precision;
  }

  private slotDir(mag: ModelSlot): string {
    return path.join(this.modelsDir, mag);
  }

  private missing(mag: ModelSlot, cause: string, detail: string): MissingModelError {
    return new MissingModelError(mag, `${cause} ${trainCommandHint(mag)}`, detail);
  }

  /** The card of an installed model (fresh from disk unless already loaded), or why there is none. */
  card(mag: ModelSlot): ModelCard {
    const cached = this.loaded.get(mag);
    if (cached) return cached.card;
    const dir = this.slotDir(mag);
    if (!fs.existsSync(path.join(dir, CARD_FILE)) && !fs.existsSync(path.join(dir, MODEL_FILE))) {
      throw this.missing(mag, `No model is installed for ${mag}.`, `${dir} holds no ${CARD_FILE} or ${MODEL_FILE}.`);
    }
    try {
      return readModelCard(dir);
    } catch (err) {
      if (!(err instanceof ModelCardError)) throw err;
      throw this.missing(mag, `The ${mag} model is installed incompletely or is damaged.`, err.message);
    }
  }

  /** Every magnification, installed or not, in the order 40X, 100X, 200X, 400X; then pooled, when installed. */
  status(): ModelStatus[] {
    const pooled = fs.existsSync(path.join(this.slotDir('pooled'), CARD_FILE)) ? ['pooled' as const] : [];
    return [...MAGNIFICATIONS, ...pooled].map((magnification) => {
      try {
        return { magnification, installed: true, loaded: this.loaded.has(magnification), card: this.card(magnification) };
      } catch (err) {
        if (!(err instanceof MissingModelError)) throw err;
        return { magnification, installed: false, reason: err.message };
      }
    });
  }

  /** The model for `mag`, loading it on first use; concurrent callers share one load. */
  get(mag: ModelSlot): Promise<LoadedModel> {
    if (this.disposed) return Promise.reject(new Error('The model registry was closed.'));
    let load = this.loads.get(mag);
    if (!load) {
      load = this.load(mag);
      this.loads.set(mag, load);
      load.catch(() => this.loads.delete(mag));
    }
    return load;
  }

  private async load(mag: ModelSlot): Promise<LoadedModel> {
    const card = this.card(mag);
    const file = path.join(this.slotDir(mag), MODEL_FILE);
    if (this.verifyChecksum && card.weights?.modelSha256) {
      const actual = await sha256File(file);
      if (actual !== card.weights.modelSha256) {
        throw this.missing(mag, `The ${mag} model file does not match its model card, so its metrics cannot be trusted.`,
          `${file} has sha256 ${actual} but ${CARD_FILE} records ${card.weights.modelSha256}.`);
      }
    }
    // By default a model runs in the precision its card's metrics were measured in. Served models
    // only predict and explain, so BatchNorm is folded into the convolutions (as evaluate does).
    const { model } = await Model.load(file, { device: this.device, precision: this.precision ?? measuredPrecision(card), inferenceOnly: true });
    // model.pt applies its own stain target; the card must describe that one, or its numbers mislead.
    const stain = model.info().stain;
    if (card.stain && (card.stain.method !== stain.method || card.stain.values.some((v, i) => Math.abs(v - stain.values[i]) > 1e-9))) {
      model.dispose();
      throw this.missing(mag, `The ${mag} model normalises stains differently from what its model card says.`,
        `model.pt uses '${stain.method}' but ${CARD_FILE} records '${card.stain.method}'.`);
    }
    const info = model.info();
    const loaded: LoadedModel = { magnification: mag, model, card, imageSize: info.imageSize, precision: info.precision };
    if (this.disposed) {
      model.dispose();
      throw new Error('The model registry was closed.');
    }
    this.loaded.set(mag, loaded);
    return loaded;
  }

  /** Frees every loaded model; later `get` calls are rejected. */
  dispose(): void {
    this.disposed = true;
    for (const loaded of this.loaded.values()) loaded.model.dispose();
    this.loaded.clear();
    this.loads.clear();
  }
}
