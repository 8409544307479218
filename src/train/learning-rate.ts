// The learning rate of each step. Large batches take fewer, larger steps; the linear scaling rule
// (Goyal et al. 2017, "Accurate, Large Minibatch SGD") keeps the progress per image: the rate
// grows with batch / 32 (the recipe's batch), reached by a linear warm-up over the first epoch so
// the first large steps on a new head do not wreck the pretrained features.
import type { TrainConfig } from './recipe';

/** The batch size the recipe's learning rate was chosen for. */
export const REFERENCE_BATCH = 32;
/** Up to this batch the recipe's rate is used as it is under 'auto' (the study's 32 and 64). */
const AUTO_SCALING_ABOVE = 64;

type RateConfig = Pick<TrainConfig, 'learningRate' | 'batchSize' | 'learningRateScaling'>;

function scales(c: RateConfig): boolean {
  return c.learningRateScaling === 'linear' || (c.learningRateScaling === 'auto' && c.batchSize > AUTO_SCALING_ABOVE);
}

/** The rate after warm-up. */
export function peakLearningRate(c: RateConfig): number {
  return scales(c) ? c.learningRate * (c.batchSize / REFERENCE_BATCH) : c.learningRate;
}

/** The rate of step `batch` (0-based) of `epoch` (1-based) with `batches` steps per epoch. */
export function learningRateAt(c: RateConfig, epoch: number, batch: number, batches: number): number {
  const peak = peakLearningRate(c);
  if (!scales(c) || epoch > 1 || peak <= c.learningRate) return peak;
  return c.learningRate + (peak - c.learningRate) * Math.min(1, (batch + 1) / Math.max(1, batches));
}
