// Data parallel on the CPU with Gloo over 127.0.0.1: two ranks x per-rank batch 8 end where one
// process with batch 16 ends (same seeds, class weights unequal, augmentation on), and the
// distributed run's folder is complete, written by rank 0 alone, with validation metrics (sharded
// and gathered) equal to the single process's; from epoch 2 both gather batches from their
// device-resident copies (a rank completes its copy after epoch 1); the final evaluation of validation and test is
// sharded across the ranks too and its metrics.json equals a single-process evaluation.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from '../../../src/native';
import { evaluateRun, readEpochLog, type RunMetrics } from '../../../src/train';
import { syntheticCohort, tmpDir } from '../helpers';
import { startCli } from './dist-helpers';

const ARGS = ['--mag', '100X', '--weights', 'none', '--trainable', 'fc', '--image-size', '32', '--batch', '16', '--per-class', 'all',
  '--device', 'cpu', '--epochs', '2', '--patience', '5', '--seed', '3', '--rotation', '10', '--dist-timeout', '60', '--json'];

function runDirOf(runs: string): string {
  const dirs = fs.readdirSync(runs).filter((d) => !d.startsWith('.'));
  expect(dirs, `one run folder in ${runs}`).to.have.length(1);
  return path.join(runs, dirs[0]);
}

async function trainable(file: string): Promise<Float32Array> {
  const { model } = await Model.load(file, { device: 'cpu' });
  try {
    return await model.trainableParameters();
  } finally {
    model.dispose();
  }
}

describe('distributed training: 2 ranks x batch 8 = 1 process x batch 16', function () {
  this.timeout(300_000);

  it('ends with the same trainable weights, the same validation metrics, and one complete run folder', async () => {
    const data = await syntheticCohort();
    const base = tmpDir('dist-equivalence');
    const single = path.join(base, 'single');
    const multi = path.join(base, 'multi');
    const cache = { HISTOSCOPE_DECODE_CACHE: path.join(base, 'cache') };
    const one = await startCli(['train', '--data', data, ...ARGS, '--runs', single], cache).done;
    expect(one.code, one.stderr).to.equal(0);
    const two = await startCli(['train', '--data', data, ...ARGS, '--runs', multi, '--nproc-per-node', '2'], cache).done;
    expect(two.code, two.stderr).to.equal(0);

    const singleDir = runDirOf(single);
    const multiDir = runDirOf(multi);
    for (const file of ['config.json', 'manifest.json', 'split.json', 'initial-weights.json', 'epochs.jsonl', 'best.pt', 'last.pt', 'metrics.json']) {
      expect(fs.existsSync(path.join(multiDir, file)), file).to.equal(true);
    }
    expect(fs.readdirSync(multiDir).filter((f) => f.endsWith('.tmp')), 'temp files left').to.deep.equal([]);
    // Rank 0 alone reported: one run-end event, one metrics line.
    expect(two.stdout.split('\n').filter((l) => l.includes('"event":"run-end"'))).to.have.length(1);

    const a = await trainable(path.join(singleDir, 'last.pt'));
    const b = await trainable(path.join(multiDir, 'last.pt'));
    expect(b.length).to.equal(a.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst, 'largest trainable-weight difference').to.be.below(1e-5);
    // And the weights did move: the comparison is not between two untouched initialisations.
    const initial = await Model.create({ trainable: 'fc', imageSize: 32, seed: 3, device: 'cpu' });
    const start = await initial.trainableParameters();
    initial.dispose();
    expect(a.some((v, i) => Math.abs(v - start[i]) > 1e-4)).to.equal(true);

    // Epoch 2 gathered its batches from the device-resident copy: after epoch 1 rank 0 fetched the
    // training images it had not streamed (the other rank's share) into its store, once.
    const kept = two.stdout.split('\n').filter((l) => l.includes('"event":"device-images"'))
      .map((l) => JSON.parse(l) as { split: string; images: number; added: number });
    expect(kept, 'device-images events').to.have.length(1);
    expect(kept[0].added).to.be.above(0).and.below(kept[0].images);

    const e1 = readEpochLog(singleDir);
    const e2 = readEpochLog(multiDir);
    expect(e2.map((r) => r.epoch)).to.deep.equal([1, 2]);
    for (let i = 0; i < e1.length; i++) {
      expect(e2[i].valWeightedF1).to.be.closeTo(e1[i].valWeightedF1, 1e-9);
      expect(e2[i].valLoss).to.be.closeTo(e1[i].valLoss, 1e-5);
      expect(e2[i].trainLoss).to.be.closeTo(e1[i].trainLoss, 1e-5);
      expect(e2[i].trainAccuracy).to.be.closeTo(e1[i].trainAccuracy, 1e-9);
      expect(e2[i].bestEpoch).to.equal(e1[i].bestEpoch);
    }
    // The final evaluation was sharded: rank 0 (the only one reporting) predicted its strided half
    // of each split, and the gathered predictions cover each split once (the counts below).
    const evaluations = two.stdout.split('\n').filter((l) => l.includes('"event":"evaluate"'))
      .map((l) => JSON.parse(l) as { part: string; images: number; shard?: { rank: number; ranks: number; images: number } });
    expect(evaluations.map((e) => e.part)).to.deep.equal(['val', 'test']);
    for (const e of evaluations) expect(e.shard, e.part).to.deep.equal({ rank: 0, ranks: 2, images: Math.ceil(e.images / 2) });
    // The run's metrics equal a fresh single-process evaluation of its checkpoint, count for count.
    const written = JSON.parse(fs.readFileSync(path.join(multiDir, 'metrics.json'), 'utf8')) as RunMetrics;
    const again = await evaluateRun(multiDir);
    expect(written.test.counts).to.deep.equal(again.test.counts);
    expect(written.test.counts.images).to.equal(evaluations[1].images);
    expect(written.test.confusionMatrix).to.deep.equal(again.test.confusionMatrix);
    expect(written.validation.report.confusionMatrix).to.deep.equal(again.validation.report.confusionMatrix);
    // Probabilities agree to fp32 rounding (the shards are predicted in other batches).
    expect(written.threshold.threshold).to.be.closeTo(again.threshold.threshold, 1e-5);
    expect(again.test.metrics.weightedF1).to.be.closeTo(written.test.metrics.weightedF1, 1e-9);
    expect(again.test.roc.auc ?? 0).to.be.closeTo(written.test.roc.auc ?? 0, 1e-6);
    expect(again.validation.loss).to.be.closeTo(written.validation.loss, 1e-5);
  });
});
