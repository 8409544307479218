// Faithfulness of a Grad-CAM picture: src/eval's deletion/insertion curves, scored by the model
// that made the map, on the image as the model sees it, in batched native predictions.
import { faithfulness, type FaithfulnessOptions, type FaithfulnessResult } from '../eval';
import type { GradcamPictures } from './gradcam-image';
import type { LoadedModel } from './model-registry';
import { defaultBatchSize } from './batch-predict';

export async function explanationFaithfulness(loaded: LoadedModel, pictures: Pick<GradcamPictures, 'modelView' | 'targetClass'>,
  options: FaithfulnessOptions & { batchSize?: number } = {}): Promise<FaithfulnessResult> {
  const { cam, pixels, size } = pictures.modelView;
  const batchSize = options.batchSize ?? defaultBatchSize(loaded);
  return faithfulness(pixels, size, size, cam, async (images) => {
    const out: number[] = [];
    for (let i = 0; i < images.length; i += batchSize) {
      const chunk = images.slice(i, i + batchSize);
      const data = new Uint8Array(chunk.length * size * size * 3);
      chunk.forEach((img, k) => data.set(img, k * size * size * 3));
      const probs = await loaded.model.predict({ data, shape: [chunk.length, size, size, 3] });
      out.push(...probs.map((p) => p[pictures.targetClass]));
    }
    return out;
  }, options);
}
