// A small, fast recipe for the DEMO model trained when models/ is empty (demo-models.ts): synthetic
// tiles, no ImageNet weights (none can be downloaded here), 64 px, a few epochs; about half a
// minute per magnification on two CPU cores. Never the study's recipe; its card says demo: true.
import type { SynthOptions } from '../data';
import type { TrainMagnification, TrainOverrides } from './recipe';

/** Synthetic cohort for the demo: 16 patients × 8 tiles = 64 images per class per magnification. */
export const DEMO_SYNTH: SynthOptions = { patients: 16, imagesPerPatient: 8, width: 140, height: 92, seed: 7 };

export function demoOverrides(data: string, magnification: TrainMagnification = '40X', runsDir = 'runs'): TrainOverrides {
  return {
    data,
    magnification,
    runsDir,
    weights: 'none',
    // Random lower layers stay frozen (their BatchNorm is the identity at init) and layer4 + fc
    // learn: 'all' from scratch trains BatchNorm statistics that lag behind in eval mode for the
    // first hundred steps, so a few-epoch demo would score at chance on validation.
    trainable: 'layer4+fc',
    imageSize: 64,
    // Small batches: more steps per epoch, so layer4's BatchNorm running statistics settle.
    batchSize: 8,
    perClass: null,
    maxEpochs: 10,
    patience: 4,
    // 8 patients per class: 15% would leave one per class for validation and test; 25% leaves two.
    splitFractions: { train: 0.5, val: 0.25, test: 0.25 },
  };
}
