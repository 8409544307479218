// The faithfulness numbers of a model card: Grad-CAM and Grad-CAM++ deletion/insertion AUCs (src/eval/faithfulness.ts)
// averaged over a seeded sample of test images, each map explaining the model's arg-max class and
// scored by that class's probability. Costs about 2 × 44 forward passes per image, so evaluate
// computes it only when asked (`--faithfulness N`).
import * as path from 'node:path';

import { decodeImage, type ManifestEntry } from '../data';
import { faithfulness, type FaithfulnessScores, type FaithfulnessSummary, meanScores, modelClassProbability } from '../eval';
import { CAM_METHODS, type Model } from '../native';
import { mulberry32, shuffle } from '../util/prng';

export interface FaithfulnessSampleOptions {
  root: string;
  imageSize: number;
  images: number;
  seed: number;
  batchSize: number;
  steps?: number;
  signal?: AbortSignal;
}

export async function faithfulnessSample(model: Model, entries: readonly ManifestEntry[], o: FaithfulnessSampleOptions): Promise<FaithfulnessSummary> {
  const started = Date.now();
  const chosen = shuffle(mulberry32(o.seed), entries).slice(0, o.images);
  const size = o.imageSize;
  const scores: Record<string, FaithfulnessScores[]> = Object.fromEntries(CAM_METHODS.map((m) => [m, []]));
  let steps = 0;
  for (const [i, entry] of chosen.entries()) {
    o.signal?.throwIfAborted();
    const image = await decodeImage(path.join(o.root, entry.path), { size, fit: 'fill' });
    const batch = { data: image.data, shape: [1, size, size, 3] as const };
    for (const method of CAM_METHODS) {
      const cam = await model.gradcam(batch, { method });
      const result = await faithfulness(image.data, size, size, cam.cam, modelClassProbability(model, size, cam.targetClass, o.batchSize), { steps: o.steps, seed: o.seed + i });
      steps = result.steps;
      scores[method].push(result);
    }
  }
  return {
    images: chosen.length,
    seed: o.seed,
    steps,
    methods: Object.fromEntries(CAM_METHODS.map((m) => [m, meanScores(scores[m])])),
    seconds: (Date.now() - started) / 1000,
  };
}
