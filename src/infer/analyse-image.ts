// One uploaded or named image → prediction, and Grad-CAM pictures when asked: what the web page
// and the JSON API call, so the web layer only validates and renders.
import { renderGradcam, type GradcamPictures } from './gradcam-image';
import { decodeForModel, type ReadOptions } from './model-input';
import type { LoadedModel } from './model-registry';
import { predictImages } from './predict-images';
import { type Prediction, toPrediction } from './prediction';

export interface AnalyseOptions extends ReadOptions {
  gradcam?: boolean;
  opacity?: number;
  /** Longest side of the returned pictures. */
  maxSide?: number;
  includeImage?: boolean;
  /** Checked between steps: once it aborts (the client left), no further work starts. */
  signal?: AbortSignal;
}

export interface Analysis {
  prediction: Prediction;
  gradcam?: Omit<GradcamPictures, 'prediction'>;
}

export async function analyseImage(loaded: LoadedModel, input: string | Buffer, options: AnalyseOptions = {}): Promise<Analysis> {
  const read = { limitInputPixels: options.limitInputPixels, name: options.name };
  if (options.gradcam) {
    const { prediction, ...pictures } = await renderGradcam(loaded, input, {
      ...read, opacity: options.opacity, maxSide: options.maxSide, includeImage: options.includeImage, signal: options.signal,
    });
    return { prediction, gradcam: pictures };
  }
  const image = await decodeForModel(loaded, input, read);
  options.signal?.throwIfAborted();
  const [probabilities] = await predictImages(loaded, [image]);
  return { prediction: toPrediction(probabilities, loaded.card) };
}
