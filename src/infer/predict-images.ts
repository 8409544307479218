// Decoded images → probabilities through one loaded model, in batches, optionally with test-time
// augmentation (the eight dihedral transforms of each image averaged). Native calls never carry
// more than `batchSize` images, so TTA does not multiply peak memory by eight.
import type { LoadedModel } from './model-registry';
import { allDihedral, DIHEDRAL_COUNT, type RgbImage } from './dihedral';
import { averageProbabilities } from './prediction';

export interface PredictImagesOptions {
  /** Most images per native call (default 32). */
  batchSize?: number;
  tta?: boolean;
}

/** Images of one size as one [n, height, width, 3] batch. */
export function stack(images: readonly RgbImage[]): { data: Uint8Array; shape: [number, number, number, number] } {
  const { width, height } = images[0];
  const size = width * height * 3;
  const data = new Uint8Array(size * images.length);
  images.forEach((img, i) => {
    if (img.width !== width || img.height !== height) throw new Error('Expected images of one size in a batch.');
    data.set(img.data, i * size);
  });
  return { data, shape: [images.length, height, width, 3] };
}

export interface ImagePredictions {
  /** Softmax probabilities per image, in input order. */
  probabilities: number[][];
  /** Per image: the model's stain normaliser found no tissue and left it unchanged (any view, with TTA). */
  stainFallback: boolean[];
}

/** Softmax probabilities per image, in input order. Images must share one size (the model's). */
export async function predictImages(loaded: LoadedModel, images: readonly RgbImage[], options: PredictImagesOptions = {}): Promise<number[][]> {
  return (await predictImagesDetailed(loaded, images, options)).probabilities;
}

/** The same, with the stain normaliser's fallbacks per image. */
export async function predictImagesDetailed(loaded: LoadedModel, images: readonly RgbImage[], options: PredictImagesOptions = {}): Promise<ImagePredictions> {
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const out: number[][] = [];
  const fallback: boolean[] = [];
  if (!options.tta) {
    for (let i = 0; i < images.length; i += batchSize) {
      const r = await loaded.model.predictDetailed(stack(images.slice(i, i + batchSize)));
      out.push(...r.probabilities);
      fallback.push(...r.stainFallback);
    }
    return { probabilities: out, stainFallback: fallback };
  }
  // Whole images per call (all eight views together), as many as fit in batchSize tensors.
  const perCall = Math.max(1, Math.floor(batchSize / DIHEDRAL_COUNT));
  for (let i = 0; i < images.length; i += perCall) {
    const group = images.slice(i, i + perCall);
    const views = group.flatMap((img) => allDihedral(img));
    const r = await loaded.model.predictDetailed(stack(views));
    for (let g = 0; g < group.length; g++) {
      out.push(averageProbabilities(r.probabilities.slice(g * DIHEDRAL_COUNT, (g + 1) * DIHEDRAL_COUNT)));
      fallback.push(r.stainFallback.slice(g * DIHEDRAL_COUNT, (g + 1) * DIHEDRAL_COUNT).some((f) => f));
    }
  }
  return { probabilities: out, stainFallback: fallback };
}
