// Pretrained weights: torchvision's ImageNet files, where they are found, downloading and checking them.
export { IMAGENET_WEIGHTS, TORCHVISION_MODELS_URL, WEIGHTS_IDS, weightsUrl, type WeightsEntry } from './catalogue';
export { checkWeightsFile, checkWeightsPath } from './check-weights-file';
export { fetchWeights, type FetchWeightsOptions, type FetchWeightsResult } from './fetch-weights';
export { findVerified, listWeights, torchHubCheckpointsDir, weightsSearchDirs, type FoundWeights } from './locations';
export { FetchWeightsError, manualSteps } from './manual-steps';
