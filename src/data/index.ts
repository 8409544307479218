// Public surface of the data layer (see DESIGN.md: BreakHis names, indexing, manifests, splits,
// decoding, the synthetic generator). Nothing here imports from other parts of Histoscope.
export * from './breakhis-names';
export * from './breakhis-expected';
export { folderHints, folderConflicts, type FolderHints } from './folder-hints';
export { mulberry32, deriveSeed } from '../util/prng';
export { mapWithConcurrency } from './concurrency';
export { createProgress, silentProgress, type Progress, type ProgressOptions } from './progress';
export * from './manifest';
export { indexDataset, type IndexOptions } from './index-dataset';
export { sniffImageFormat, type ImageFormat } from './image-signature';
export { listFiles, isIgnoredFile } from './walk-files';
export { summarizeManifest, formatSummary, type DatasetSummary } from './dataset-summary';
export * from './split-types';
export { makeSplit, groupKey, DEFAULT_FRACTIONS, SPLIT_VERSION, type SplitOptions } from './make-split';
export { proportionalQuotas, sampleAcrossPatients } from './cap-images';
export { writeSplit, loadSplit, assertDisjoint, type LoadedSplit, type LoadSplitOptions } from './split-file';
export { decodeImage, readImageSize, DEFAULT_IMAGE_SIZE, DEFAULT_LIMIT_INPUT_PIXELS, type DecodeOptions, type DecodedImage, type ResizeFit } from './decode-image';
export { ImageCache } from './image-cache';
export {
  DecodedCache, DECODE_CACHE_ENV, decodedCacheDir, sharedDecodedCache, warmDecodedCache,
  type DecodeCacheSetting, type DecodedCacheOptions, type DecodedCacheStats, type WarmResult,
} from './decoded-cache';
export { BatchLoader, type ImageBatch, type BatchLoaderOptions, type LoaderStats } from './batch-loader';
export { generateSynthetic, renderSyntheticPng, synthTilePath, SYNTH_TREE, type SynthOptions, type SynthResult } from './generate-synthetic';
export { syntheticPatients, type SyntheticPatient } from './synth/synthetic-patients';
export * from './ood';
