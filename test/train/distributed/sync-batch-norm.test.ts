// Synchronised BatchNorm (--sync-bn) with the study's trainable policy (layer4 + fc, whose
// BatchNorm layers use batch statistics while training): 2 ranks x per-rank batch 8 end where one
// process with batch 16 ends, weights and running statistics alike, and without --sync-bn the
// statistics do not (per-rank, as DDP). "Where" is measured against this setup's fp32 noise floor:
// the same single-process run with 2 intra-op threads instead of 1 (same maths, other summation
// orders). Training layer4 from random weights with Adam amplifies rounding far past 1e-5 (Adam
// moves a near-zero gradient's weight by up to the learning rate whatever its sign), so an absolute
// 1e-5 bound holds for no two fp32 runs here; native/tests/test_distributed.cc checks the layer
// itself to 1e-5 (fp32) and 1e-10 (fp64).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from '../../../src/native';
import { syntheticCohort, tmpDir } from '../helpers';
import { startCli } from './dist-helpers';

const ARGS = ['--mag', '100X', '--weights', 'none', '--trainable', 'layer4+fc', '--image-size', '32', '--batch', '16', '--per-class', 'all',
  '--device', 'cpu', '--epochs', '1', '--seed', '3', '--rotation', '10', '--dist-timeout', '60', '--no-gallery', '--json'];

interface Finals { weights: Float32Array; stats: Float32Array }

async function finals(runs: string): Promise<Finals> {
  const dirs = fs.readdirSync(runs).filter((d) => !d.startsWith('.'));
  expect(dirs, `one run folder in ${runs}`).to.have.length(1);
  const { model } = await Model.load(path.join(runs, dirs[0], 'last.pt'), { device: 'cpu' });
  try {
    return { weights: await model.trainableParameters(), stats: await model.batchNormStatistics() };
  } finally {
    model.dispose();
  }
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  expect(b.length).to.equal(a.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('distributed training with --sync-bn: 2 ranks x batch 8 = 1 process x batch 16, layer4 trained', function () {
  this.timeout(600_000);

  it('ends with the same trainable weights and BatchNorm running statistics (and without --sync-bn it does not)', async () => {
    const data = await syntheticCohort();
    const base = tmpDir('dist-sync-bn');
    const run = async (name: string, extra: string[], threads = '1'): Promise<Finals> => {
      const env = { HISTOSCOPE_DECODE_CACHE: path.join(base, 'cache'), HISTOSCOPE_THREADS: threads };
      const r = await startCli(['train', '--data', data, ...ARGS, '--runs', path.join(base, name), ...extra], env, 300_000).done;
      expect(r.code, `${name}: ${r.stderr}`).to.equal(0);
      return finals(path.join(base, name));
    };
    const single = await run('single', []);
    // Without a world --sync-bn changes nothing, bit for bit.
    const singleFlag = await run('single-sync-bn', ['--sync-bn']);
    expect(largestDifference(single.weights, singleFlag.weights)).to.equal(0);
    expect(largestDifference(single.stats, singleFlag.stats)).to.equal(0);
    const noise = await run('single-2-threads', [], '2');
    const synced = await run('synced', ['--sync-bn', '--nproc-per-node', '2']);
    const perRank = await run('per-rank', ['--nproc-per-node', '2']);
    const floor = { weights: largestDifference(single.weights, noise.weights), stats: largestDifference(single.stats, noise.stats) };
    const d = {
      synced: { weights: largestDifference(single.weights, synced.weights), stats: largestDifference(single.stats, synced.stats) },
      perRank: { weights: largestDifference(single.weights, perRank.weights), stats: largestDifference(single.stats, perRank.stats) },
    };
    const numbers = JSON.stringify({ floor, ...d });
    // The statistics moved in training (layer4's), so comparing them means something.
    const initial = await Model.create({ trainable: 'layer4+fc', imageSize: 32, seed: 3, device: 'cpu' });
    const start = await initial.batchNormStatistics();
    initial.dispose();
    expect(largestDifference(start, single.stats), numbers).to.be.above(0.1);
    expect(d.synced.weights, `synced weights vs the noise floor: ${numbers}`).to.be.at.most(Math.max(1e-5, 5 * floor.weights));
    expect(d.synced.stats, `synced statistics vs the noise floor: ${numbers}`).to.be.at.most(Math.max(1e-5, 5 * floor.stats));
    expect(d.perRank.stats, `per-rank statistics differ: ${numbers}`).to.be.above(50 * Math.max(d.synced.stats, floor.stats));
  });
});
