// One uploaded or named image → prediction, and Grad-CAM pictures when asked: what the web page
// and the JSON API call, so the web layer only validates and renders.
import type { CamMethod } from '../native';
import { renderGradcam, type GradcamPictures } from './gradcam-image';
import { type ImageWarning, inputWarnings } from './input-warnings';
import { batcherFor, type MicroBatchOptions } from './micro-batcher';
import { decodeForModel, type ReadOptions } from './model-input';
import type { LoadedModel } from './model-registry';
import { type Prediction, toPrediction } from './prediction';

export interface AnalyseOptions extends ReadOptions {
  gradcam?: boolean;
  /** Grad-CAM (default) or Grad-CAM++. */
  method?: CamMethod;
  /** Class Grad-CAM explains; default: the predicted label. */
  targetClass?: 0 | 1;
  opacity?: number;
  /** Longest side of the returned pictures. */
  maxSide?: number;
  includeImage?: boolean;
  /** Checked between steps: once it aborts (the client left), no further work starts. */
  signal?: AbortSignal;
  /** Settings of the model's micro-batcher, applied when it is first made. */
  microBatch?: Partial<MicroBatchOptions>;
}

export interface Analysis {
  prediction: Prediction;
  /** Out-of-distribution warnings: the answer stands, but may mean little (see src/data/ood/). */
  warnings: ImageWarning[];
  gradcam?: Omit<GradcamPictures, 'prediction' | 'warnings' | 'modelView'>;
}

export async function analyseImage(loaded: LoadedModel, input: string | Buffer, options: AnalyseOptions = {}): Promise<Analysis> {
  const read = { limitInputPixels: options.limitInputPixels, name: options.name };
  if (options.gradcam) {
    const rendered = await renderGradcam(loaded, input, {
      ...read, method: options.method, opacity: options.opacity, maxSide: options.maxSide, includeImage: options.includeImage, signal: options.signal,
      microBatch: options.microBatch, targetClass: options.targetClass,
    });
    const { prediction, warnings, targetClass, method, width, height, originalWidth, originalHeight, heatmapPng, overlayPng, imagePng } = rendered;
    return {
      prediction, warnings,
      gradcam: { targetClass, method, width, height, originalWidth, originalHeight, heatmapPng, overlayPng, ...(imagePng ? { imagePng } : {}) },
    };
  }
  const image = await decodeForModel(loaded, input, read);
  options.signal?.throwIfAborted();
  // Concurrent requests for this model share one native call (micro-batcher.ts); the OOD checks
  // run here meanwhile.
  const [warnings, answer] = await Promise.all([
    inputWarnings(loaded.card, input, image, options.limitInputPixels),
    batcherFor(loaded.model, options.microBatch).predict(image, options.signal),
  ]);
  return { prediction: toPrediction(answer.probabilities, loaded.card, answer.stainFallback, loaded.precision), warnings };
}
