// Out-of-distribution warnings: is this image like the ones the model was trained on?
export { imageWarnings, type ImageWarningOptions } from './image-warnings';
export { geometryWarnings } from './geometry-checks';
export { contentWarnings, pixelWarnings } from './content-checks';
export { stainFeatures, type StainFeatures } from './stain-features';
export { BREAKHIS_IMAGE_SIZE, type ImageWarning, type ImageWarningCode, type RgbPixels, type TrainingImages } from './ood-types';
