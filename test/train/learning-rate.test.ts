// The learning-rate rule for large batches: the recipe's rate at the study's batch sizes, linear
// scaling from batch 32 above them, reached by a one-epoch linear warm-up.
import { expect } from 'chai';

import { learningRateAt, peakLearningRate } from '../../src/train/learning-rate';

describe('learning rate and batch size', () => {
  const at = (batchSize: number, learningRateScaling: 'auto' | 'linear' | 'none' = 'auto') => ({ learningRate: 1e-4, batchSize, learningRateScaling });

  it('keeps the study\'s rate at batch 32 and 64 and scales linearly above', () => {
    expect(peakLearningRate(at(32))).to.equal(1e-4);
    expect(peakLearningRate(at(64))).to.equal(1e-4);
    expect(peakLearningRate(at(256))).to.be.closeTo(8e-4, 1e-12);
    expect(peakLearningRate(at(512))).to.be.closeTo(1.6e-3, 1e-12);
    expect(peakLearningRate(at(64, 'linear'))).to.be.closeTo(2e-4, 1e-12);
    expect(peakLearningRate(at(512, 'none'))).to.equal(1e-4);
  });

  it('warms up linearly over the first epoch only when it scales', () => {
    const c = at(256);
    const steps = [0, 1, 2, 3].map((b) => learningRateAt(c, 1, b, 4));
    expect(steps[0]).to.be.closeTo(1e-4 + 7e-4 / 4, 1e-12);
    expect(steps[3]).to.be.closeTo(8e-4, 1e-12);
    for (let i = 1; i < 4; i++) expect(steps[i]).to.be.above(steps[i - 1]);
    expect(learningRateAt(c, 2, 0, 4)).to.be.closeTo(8e-4, 1e-12);
    expect(learningRateAt(at(32), 1, 0, 4)).to.equal(1e-4);
  });
});
