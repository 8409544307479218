// Out-of-distribution warnings for an image about to be answered by a model: the data layer's
// checks, told what the model was trained on (its card's image size, BreakHis's 700×460 for cards
// written before cards recorded it).
import { BREAKHIS_IMAGE_SIZE, imageWarnings, type ImageWarning, type RgbPixels, type TrainingImages } from '../data';
import type { ModelCard } from '../eval/model-card';

export type { ImageWarning };

export function trainingImagesOf(card: ModelCard): TrainingImages {
  const size = card.data?.imageSize ?? BREAKHIS_IMAGE_SIZE;
  return { width: size.width, height: size.height, model: `the ${card.magnification} model` };
}

/** Warnings for `input`, given `pixels` (its decode at the model's input size). */
export function inputWarnings(card: ModelCard, input: string | Buffer, pixels: RgbPixels, limitInputPixels?: number): Promise<ImageWarning[]> {
  return imageWarnings(input, pixels, { training: trainingImagesOf(card), limitInputPixels });
}
