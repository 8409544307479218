// Public surface of the inference part: installed models by magnification (and their cards,
// defined in src/eval), prediction of one image or many files, Grad-CAM pictures.
export * from '../eval/model-card';
export { ModelRegistry, MissingModelError, type LoadedModel, type ModelStatus, type RegistryOptions } from './model-registry';
export { trainCommandHint } from './train-hint';
export { DEMO_WARNING, STAIN_FALLBACK_NOTE, toPrediction, averageProbabilities, type Prediction, type Label } from './prediction';
export { dihedral, allDihedral, DIHEDRAL_COUNT, type RgbImage } from './dihedral';
export { predictImages, predictImagesDetailed, type ImagePredictions, type PredictImagesOptions } from './predict-images';
export { VIRIDIS_LUT, EVIDENCE_LUT, applyColormap, applyEvidenceColormap } from './colormap';
export { blend, blendOver, quantiseMap } from './overlay';
export { decodeForModel, readPixels, MODEL_FIT, ImageReadError, type ReadOptions } from './model-input';
export { renderGradcam, DEFAULT_OPACITY, type GradcamOptions, type GradcamPictures } from './gradcam-image';
export { analyseImage, type Analysis, type AnalyseOptions } from './analyse-image';
export { inputWarnings, trainingImagesOf, type ImageWarning } from './input-warnings';
export { explanationFaithfulness } from './explanation-faithfulness';
export { MicroBatcher, batcherFor, DEFAULT_MICRO_BATCH, type MicroBatchOptions, type MicroBatchStats } from './micro-batcher';
export { expandInputs, globToRegExp, type ExpandedInputs } from './expand-inputs';
export { magnificationFor, type MagnificationChoice } from './file-magnification';
export { predictFiles, defaultBatchSize, type PredictFilesOptions, type PredictFilesResult, type PredictionRow } from './batch-predict';
export { predictionsToCsv, predictionsToJson, writePredictions, CSV_COLUMNS } from './prediction-table';
