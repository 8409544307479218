// Faithfulness of a Grad-CAM picture: src/eval's deletion/insertion curves, scored by the model
// that made the map, on the image as the model sees it, in batched native predictions.
import { faithfulness, type FaithfulnessOptions, type FaithfulnessResult, modelClassProbability } from '../eval';
import type { GradcamPictures } from './gradcam-image';
import type { LoadedModel } from './model-registry';
import { defaultBatchSize } from './batch-predict';

export async function explanationFaithfulness(loaded: LoadedModel, pictures: Pick<GradcamPictures, 'modelView' | 'targetClass'>,
  options: FaithfulnessOptions & { batchSize?: number } = {}): Promise<FaithfulnessResult> {
  const { cam, pixels, size } = pictures.modelView;
  const batchSize = options.batchSize ?? defaultBatchSize(loaded);
  return faithfulness(pixels, size, size, cam, modelClassProbability(loaded.model, size, pictures.targetClass, batchSize), options);
}
