// Real training on synthetic tiles (random init, 64 px): the loop, the class-weighted loss and the
// augmentation must together learn the classes; the run folder must hold everything it promises.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readModelCard } from '../../src/eval/model-card';
import { ModelRegistry, toPrediction } from '../../src/infer';
import { Model } from '../../src/native';
import {
  classWeightsFromCounts, evaluateRun, evaluateStainShift, promoteRun, readEpochLog, readRunMetrics, trainRun, type TrainEvent, type TrainRunResult,
} from '../../src/train';
import { fastOverrides, syntheticCohort, tmpDir } from './helpers';

describe('trainRun on synthetic tiles', function () {
  this.timeout(240_000);
  let result: TrainRunResult;
  const events: TrainEvent[] = [];
  let seconds = 0;

  before(async () => {
    const data = await syntheticCohort();
    const t0 = Date.now();
    result = await trainRun(fastOverrides(data, path.join(tmpDir('train-learn'), 'runs')), { onEvent: (e) => events.push(e) });
    seconds = (Date.now() - t0) / 1000;
  });

  it('learns: validation accuracy ≥ 0.85 within a few epochs', () => {
    expect(result.status).to.equal('finished');
    const epochs = readEpochLog(result.runDir);
    const bestVal = Math.max(...epochs.map((e) => e.valAccuracy));
    const m = result.metrics!;
    process.stderr.write(`      (${epochs.length} epochs in ${seconds.toFixed(1)} s; best val acc ${bestVal.toFixed(3)} at 0.5, ` +
      `${m.validation.accuracy.toFixed(3)} at the chosen threshold; test acc ${m.test.metrics.accuracy.toFixed(3)}; ` +
      `${epochs.map((e) => e.imagesPerSecond.toFixed(0)).join('/')} img/s)\n`);
    expect(bestVal).to.be.at.least(0.85);
    expect(m.validation.accuracy).to.be.at.least(0.85);
    // Both classes are found, not just the majority one: what the class weighting is for.
    expect(m.validation.report.metrics.sensitivity).to.be.at.least(0.7);
    expect(m.validation.report.metrics.specificity).to.be.at.least(0.7);
    expect(m.test.metrics.accuracy).to.be.above(0.5);
  });

  it('weights the loss by the training split\'s class frequencies', () => {
    const start = events.find((e) => e.event === 'run-start');
    if (start?.event !== 'run-start') throw new Error('no run-start event');
    const c = start.counts.train;
    expect(c.benign).to.be.below(c.malignant);
    expect(start.classWeights).to.deep.equal(classWeightsFromCounts([c.benign, c.malignant]));
    expect(start.classWeights[0]).to.be.above(1);
  });

  it('writes the full run folder', () => {
    const dir = result.runDir;
    expect(path.basename(dir)).to.match(/^\d{8}-\d{6}-100X-b8-nall$/);
    for (const f of ['config.json', 'manifest.json', 'split.json', 'epochs.jsonl', 'best.pt', 'last.pt', 'metrics.json', 'initial-weights.json']) {
      expect(fs.existsSync(path.join(dir, f)), f).to.equal(true);
    }
    for (const p of ['accuracy', 'loss', 'confusion-matrix', 'roc', 'reliability']) {
      for (const ext of ['svg', 'png']) expect(fs.existsSync(path.join(dir, 'plots', `${p}.${ext}`)), `${p}.${ext}`).to.equal(true);
    }
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config).to.include({ weights: 'none', trainable: 'layer4+fc', imageSize: 64, batchSize: 8, learningRate: 1e-4 });
    const epochs = readEpochLog(dir);
    expect(epochs.map((e) => e.epoch)).to.deep.equal(epochs.map((_, i) => i + 1));
    for (const e of epochs) {
      for (const k of ['trainLoss', 'trainAccuracy', 'trainWeightedF1', 'valLoss', 'valAccuracy', 'valWeightedF1', 'learningRate', 'seconds', 'imagesPerSecond'] as const) {
        expect(e[k], k).to.be.a('number').and.satisfy(Number.isFinite);
      }
    }
    const m = readRunMetrics(dir);
    const best = epochs.reduce((a, b) => (b.valWeightedF1 > a.valWeightedF1 ? b : a));
    expect(m.bestEpoch).to.equal(best.epoch);
    expect(m.threshold.threshold).to.be.within(0, 1);
    expect(m.test.threshold).to.equal(m.threshold.threshold);
    expect(m.test.counts.images).to.equal(m.test.confusionMatrix.total);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('keeps the best epoch in best.pt and the last in last.pt', async () => {
    const best = await Model.load(path.join(result.runDir, 'best.pt'), { device: 'cpu' });
    const last = await Model.load(path.join(result.runDir, 'last.pt'), { device: 'cpu' });
    best.model.dispose();
    last.model.dispose();
    expect(best.epoch).to.equal(result.metrics!.bestEpoch);
    expect(last.epoch).to.equal(result.epochs);
  });

  it('re-evaluates to the same numbers', async () => {
    const again = await evaluateRun(result.runDir);
    expect(again.test.confusionMatrix).to.deep.equal(result.metrics!.test.confusionMatrix);
  });

  it('evaluates in bf16 when asked: metrics.json, the promoted card and the registry\'s default all follow', async () => {
    const copy = path.join(tmpDir('train-bf16'), 'run');
    fs.cpSync(result.runDir, copy, { recursive: true });
    const m = await evaluateRun(copy, { precision: 'bf16', gallery: false });
    expect(m.precision).to.equal('bf16');
    expect(readRunMetrics(copy).precision).to.equal('bf16');
    expect(result.metrics!.precision).to.equal('fp32'); // training's own evaluation ran as trained
    // The stain-shift table follows the precision of the metrics it sits beside.
    expect((await evaluateStainShift(copy, { strengths: [0], seed: 1 })).precision).to.equal('bf16');
    const models = path.join(tmpDir('train-bf16-models'), 'models');
    const card = await promoteRun(copy, models);
    expect(card.metrics.precision).to.equal('bf16');
    const registry = new ModelRegistry({ modelsDir: models });
    try {
      const loaded = await registry.get('100X');
      expect(loaded.precision).to.equal('bf16'); // the precision its card was measured in
      const fp32 = new ModelRegistry({ modelsDir: models, precision: 'fp32' });
      try {
        const answer = toPrediction([0.5, 0.5], (await fp32.get('100X')).card, false, (await fp32.get('100X')).precision);
        expect(answer.precisionNote).to.match(/^Computed in fp32; this model's card metrics were measured in bf16\./);
      } finally {
        fp32.dispose();
      }
    } finally {
      registry.dispose();
    }
  });

  it('promotes to models/<mag>/ with a card readModelCard accepts, marked demo', async () => {
    const models = path.join(tmpDir('train-models'), 'models');
    const card = await promoteRun(result.runDir, models);
    const dir = path.join(models, '100X');
    const read = readModelCard(dir);
    expect(read).to.deep.equal(card);
    expect(card.demo).to.equal(true);
    expect(card.data.synthetic).to.equal(true);
    expect(card.magnification).to.equal('100X');
    expect(card.weights.bestEpoch).to.equal(result.metrics!.bestEpoch);
    expect(card.weights.initial).to.equal('none');
    expect(card.threshold).to.equal(result.metrics!.threshold.threshold);
    expect(card.data.counts.train.patients).to.be.above(0);
    for (const rel of Object.values(card.plots)) expect(fs.existsSync(path.join(dir, rel)), rel).to.equal(true);
    // Promoting again replaces the folder whole and leaves no temporary folders behind.
    await promoteRun(result.runDir, models);
    expect(fs.readdirSync(models)).to.deep.equal(['100X']);
    const loaded = await Model.load(path.join(dir, 'model.pt'), { device: 'cpu' });
    loaded.model.dispose();
  });
});
