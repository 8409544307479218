// Public surface of the training part (DESIGN.md: epoch loop, augmentation plan, early stopping,
// checkpoints, runs, sweeps). The CLI and the web server call these; nothing here parses arguments.
export { LEARNING_RATE_SCALINGS, STUDY_RECIPE, TRAIN_MAGNIFICATIONS, resolveTrainConfig, validateConfig, type AugmentationPlan, type GalleryPlan, type ResolvedConfig, type TrainConfig, type TrainMagnification, type TrainOverrides } from './recipe';
export { classWeightsFromCounts, countLabels, trainingClassWeights } from './class-weights';
export { EarlyStopper, type EarlyStoppingState, type EarlyStoppingUpdate } from './early-stopping';
export { IMAGENET_FILES, IMAGENET_URL, missingImagenetMessage, resolveInitialWeights, weightsCacheDir, type InitialWeights } from './initial-weights';
export { isSyntheticDataset } from './synthetic-marker';
export { RUN_FILES, createRunDir, readEpochLog, readRunConfig, runName, type EpochLogRecord } from './run-folder';
export { loadRunData, partCounts, prepareRunData, splitHash, type RunData } from './run-data';
export { DEMO_SYNTH, demoOverrides } from './demo-recipe';
export { demoModelsNeeded, trainDemoModels, type DemoOptions } from './demo-models';
export { trainRun, resumeRun, type TrainRunOptions, type TrainRunResult } from './train-run';
export { evaluateExternal, evaluateRun, readRunMetrics, type EvaluateOptions, type ExternalEvaluation, type ExternalSource, type RunMetrics } from './evaluate-run';
export { promoteRun, buildModelCard } from './promote-run';
export { GALLERY_DIR, galleryFiles, writeRunGallery, type GalleryFiles, type GalleryIndex, type GalleryOptions } from './run-gallery';
export { runSweep, bestPerMagnification, sharedManifest, magnificationsIn, type SweepGrid, type SweepResult, type SweepRow } from './sweep';
export { runCrossValidation, type CrossValidationResult } from './cross-validate';
export { STAIN_FIT_IMAGES, STAIN_TARGET_FILE, readRunStainTarget, runStainTarget, type RunStainTarget } from './run-stain-target';
export { DEFAULT_STAIN_SHIFT_STRENGTHS, STAIN_SHIFT_FILES, evaluateStainShift, type StainShiftOptions } from './stain-shift';
export { createTrainReporter, type ReporterOptions } from './progress-reporter';
export type { TrainEvent, TrainEventHandler } from './train-events';
export type { CheckpointMetadata } from './train-loop';
export { DistributedContext, type DistributedSettings } from './distributed/distributed-context';
export { readDistributedEnv, type DistributedEnv } from './distributed/env-contract';
export { launchWorkers, type LaunchOptions, type LaunchResult } from './distributed/launch-workers';
export { configHash } from './distributed/config-hash';
