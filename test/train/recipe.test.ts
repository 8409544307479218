import { expect } from 'chai';
import * as path from 'node:path';
import { classWeightsFromCounts, countLabels, EarlyStopper, resolveTrainConfig, STUDY_RECIPE } from '../../src/train';

describe('training recipe', () => {
  it('defaults to the study\'s recipe', () => {
    const { config, warnings } = resolveTrainConfig({ data: 'breakhis' });
    expect(config).to.include({
      weights: 'imagenet', trainable: 'layer4+fc', learningRate: 1e-4, weightDecay: 1e-4,
      classWeighting: 'inverse-frequency', maxEpochs: 20, patience: 5, batchSize: 32, perClass: 600, imageSize: 224,
    });
    expect(config.augmentation).to.deep.equal({ horizontalFlip: true, verticalFlip: true, rightAngleRotation: true, maxRotationDegrees: 0, fill: 'reflection', hedStrength: 0 });
    expect(config.data).to.equal(path.resolve('breakhis'));
    expect(config.runsDir).to.equal(path.resolve('runs'));
    expect(warnings).to.deep.equal([]);
  });

  it('applies overrides without touching the defaults object', () => {
    const { config } = resolveTrainConfig({ data: 'd', batchSize: 64, perClass: 500, augmentation: { maxRotationDegrees: 15 }, learningRate: undefined });
    expect(config.batchSize).to.equal(64);
    expect(config.perClass).to.equal(500);
    expect(config.learningRate).to.equal(1e-4);
    expect(config.augmentation).to.include({ maxRotationDegrees: 15, horizontalFlip: true });
    expect(STUDY_RECIPE.augmentation.maxRotationDegrees).to.equal(0);
    expect(STUDY_RECIPE.batchSize).to.equal(32);
  });

  it('sizes evaluation batches for throughput: at least the training batch, unless set', () => {
    expect(resolveTrainConfig({ data: 'd' }).config.evalBatchSize).to.equal(64);
    expect(resolveTrainConfig({ data: 'd', batchSize: 256 }).config.evalBatchSize).to.equal(256);
    expect(resolveTrainConfig({ data: 'd', batchSize: 256, evalBatchSize: 32 }).config.evalBatchSize).to.equal(32);
  });

  it('--weights none warns and trains all layers unless told otherwise', () => {
    const none = resolveTrainConfig({ data: 'd', weights: 'none' });
    expect(none.config.trainable).to.equal('all');
    expect(none.warnings.join(' ')).to.match(/random initialisation/);
    expect(resolveTrainConfig({ data: 'd', weights: 'none', trainable: 'layer4+fc' }).config.trainable).to.equal('layer4+fc');
  });

  it('rejects invalid values with a message naming the setting', () => {
    expect(() => resolveTrainConfig({ data: 'd', batchSize: 0 })).to.throw(/batch size/);
    expect(() => resolveTrainConfig({ data: 'd', magnification: '50X' as never })).to.throw(/magnification/);
    expect(() => resolveTrainConfig({ data: 'd', device: 'tpu' })).to.throw(/device/);
    expect(() => resolveTrainConfig({ data: 'd', augmentation: { maxRotationDegrees: 270 } })).to.throw(/maxRotationDegrees/);
  });

  it('synchronised BatchNorm is off by default and refused where no BatchNorm layer trains', () => {
    expect(resolveTrainConfig({ data: 'd' }).config.syncBatchNorm).to.equal(false);
    expect(resolveTrainConfig({ data: 'd', syncBatchNorm: true }).config.syncBatchNorm).to.equal(true);
    expect(() => resolveTrainConfig({ data: 'd', syncBatchNorm: true, trainable: 'fc' }))
      .to.throw(/Expected layer4\+fc or all for --trainable with --sync-bn but received fc: .*no batch statistics to synchronise/);
    // Frozen stages whose statistics are updated do run BatchNorm in training mode: allowed.
    expect(resolveTrainConfig({ data: 'd', syncBatchNorm: true, trainable: 'fc', frozenBatchNorm: 'update' }).config.syncBatchNorm).to.equal(true);
  });
});

describe('class weights', () => {
  it('are n / (2 n_c) from the training split\'s class counts', () => {
    expect(classWeightsFromCounts([100, 300])).to.deep.equal([2, 2 / 3]);
    expect(classWeightsFromCounts([50, 50])).to.deep.equal([1, 1]);
    expect(classWeightsFromCounts(countLabels([0, 1, 1, 1]))).to.deep.equal([2, 2 / 3]);
    // The weighted classes contribute equally: n_c · w_c is the same for both.
    const [wb, wm] = classWeightsFromCounts([36, 60]);
    expect(36 * wb).to.be.closeTo(60 * wm, 1e-9);
  });

  it('give an absent class weight 0 and reject empty counts', () => {
    expect(classWeightsFromCounts([0, 10])).to.deep.equal([0, 0.5]);
    expect(() => classWeightsFromCounts([0, 0])).to.throw(/Expected non-negative integer counts with at least one image for class counts but received \[0, 0\]/);
  });
});

describe('EarlyStopper', () => {
  it('keeps the best epoch and stops after `patience` epochs without a strictly better score', () => {
    const s = new EarlyStopper(2);
    expect(s.update(1, 0.6)).to.deep.equal({ improved: true, stop: false });
    expect(s.update(2, 0.7)).to.deep.equal({ improved: true, stop: false });
    expect(s.update(3, 0.7)).to.deep.equal({ improved: false, stop: false }); // equal is not better
    expect(s.update(4, 0.65)).to.deep.equal({ improved: false, stop: true });
    expect(s.bestEpoch).to.equal(2);
    expect(s.bestScore).to.equal(0.7);
    expect(s.stopped).to.equal(true);
  });

  it('resets the count on improvement and never counts NaN as better', () => {
    const s = new EarlyStopper(2);
    s.update(1, NaN);
    expect(s.bestEpoch).to.equal(null);
    s.update(2, 0.5);
    s.update(3, 0.4);
    expect(s.update(4, 0.55).improved).to.equal(true);
    expect(s.state.epochsWithoutImprovement).to.equal(0);
  });

  it('continues from a saved state exactly', () => {
    const a = new EarlyStopper(3);
    a.update(1, 0.8);
    a.update(2, 0.7);
    const b = new EarlyStopper(3, JSON.parse(JSON.stringify(a.state)));
    expect(b.update(3, 0.75)).to.deep.equal({ improved: false, stop: false });
    expect(b.update(4, 0.79)).to.deep.equal({ improved: false, stop: true });
    expect(b.bestEpoch).to.equal(1);
  });
});
