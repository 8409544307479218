// Device-resident images: the first epoch streams and fills the store, later epochs gather on the
// device; both paths serve the same batches in the same order for a seed, and a run gives the
// same numbers with them on or off.
import { expect } from 'chai';
import * as path from 'node:path';

import { BatchLoader, indexDataset, type ManifestEntry } from '../../src/data';
import { Model } from '../../src/native';
import { readEpochLog, trainRun, type TrainEvent } from '../../src/train';
import { DeviceImages } from '../../src/train/device-images';
import { predictEntries } from '../../src/train/predict-entries';
import { trainBatches } from '../../src/train/train-batches';
import { fastOverrides, syntheticCohort, tmpDir } from './helpers';

describe('device-resident images', function () {
  this.timeout(600_000);
  let root: string;
  let entries: ManifestEntry[];

  before(async () => {
    root = await syntheticCohort();
    entries = (await indexDataset(root, { verify: false })).entries.slice(0, 20);
  });

  it('serve the same batches as streaming, and the same train steps, from the second epoch on', async () => {
    const loader = new BatchLoader(entries, root, { batchSize: 8, size: 48, shuffleSeed: 9 });
    const images = await DeviceImages.create(entries, 48, 'cpu');
    const streamed = await Model.create({ imageSize: 48, device: 'cpu', seed: 3 });
    const resident = await Model.create({ imageSize: 48, device: 'cpu', seed: 3 });
    try {
      const options = { classWeights: [1, 1.5] };
      // Epoch 0 streams for both models; only the store's copy fills on the way.
      for await (const batch of trainBatches(loader, 0, images)) await batch.step(resident, options);
      for await (const batch of trainBatches(loader, 0)) await batch.step(streamed, options);
      expect(images.complete).to.equal(true);
      const decodedAfterFirst = loader.stats.imagesDecoded;

      const a: string[][] = [];
      const b: string[][] = [];
      const lossesA: number[] = [];
      const lossesB: number[] = [];
      for await (const batch of trainBatches(loader, 1)) {
        a.push(batch.entries.map((e) => e.path));
        lossesA.push((await batch.step(streamed, { ...options, augment: { seed: a.length } })).loss);
      }
      for await (const batch of trainBatches(loader, 1, images)) {
        b.push(batch.entries.map((e) => e.path));
        lossesB.push((await batch.step(resident, { ...options, augment: { seed: b.length } })).loss);
      }
      expect(b).to.deep.equal(a);
      expect(lossesB).to.deep.equal(lossesA);
      // The resident epoch decoded nothing: only the streaming epoch did.
      expect(loader.stats.imagesDecoded - decodedAfterFirst).to.equal(entries.length);
    } finally {
      images.dispose();
      streamed.dispose();
      resident.dispose();
    }
  });

  it('give the same validation predictions as streaming', async () => {
    const model = await Model.create({ imageSize: 48, device: 'cpu', seed: 4 });
    const images = await DeviceImages.create(entries, 48, 'cpu');
    try {
      const options = { root, imageSize: 48, batchSize: 6 };
      const streamed = await predictEntries(model, entries, options);
      const filling = await predictEntries(model, entries, { ...options, deviceImages: images });
      expect(images.complete).to.equal(true);
      const gathered = await predictEntries(model, entries, { ...options, deviceImages: images });
      expect(filling).to.deep.equal(streamed);
      expect(gathered).to.deep.equal(streamed);
    } finally {
      images.dispose();
      model.dispose();
    }
  });

  it('leave a run\'s numbers unchanged, and stream with a warning when over budget', async () => {
    const data = await syntheticCohort();
    const runs = path.join(tmpDir('device-images'), 'runs');
    const events: TrainEvent[] = [];
    const extra = { maxEpochs: 2, patience: 5, decodeCache: 'off' };
    const on = await trainRun(fastOverrides(data, runs, { ...extra, deviceImages: 'auto' }), { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.event === 'warning' && /device/.test(e.message))).to.deep.equal([]);
    const over: TrainEvent[] = [];
    const off = await trainRun(fastOverrides(data, runs, { ...extra, deviceImageBudgetMegabytes: 0.01 }), { onEvent: (e) => over.push(e) });
    expect(over.some((e) => e.event === 'warning' && /exceed the device budget/.test(e.message))).to.equal(true);
    const strip = (dir: string): unknown[] => readEpochLog(dir).map(({ seconds: _s, imagesPerSecond: _i, ...rest }) => rest);
    expect(strip(on.runDir)).to.deep.equal(strip(off.runDir));
  });
});
