// Device-resident images: a store filled by rows gives the same predictions and train steps as
// the same pixels passed from JS, and misuse is refused with a message naming the argument.
import { expect } from 'chai';

import { ImageStore, Model } from '../../src/native';
import { stripedBatch } from '../helpers/images';
import { rejection } from '../helpers/rejection';

/** Image i of a batch as a batch of one. */
function imageOf(batch: ReturnType<typeof stripedBatch>, i: number): ReturnType<typeof stripedBatch> {
  const [, h, w] = batch.shape;
  return { data: batch.data.subarray(i * h * w * 3, (i + 1) * h * w * 3), shape: [1, h, w, 3] };
}

describe('ImageStore (device-resident images)', function () {
  this.timeout(120_000);
  const labels = [0, 1, 1, 0, 1, 0];
  const batch = stripedBatch(labels, 48, 7);

  it('gathers rows written in any order: the same logits as passing the pixels', async () => {
    const model = await Model.create({ imageSize: 48, device: 'cpu', seed: 2 });
    const store = await ImageStore.create({ count: 6, height: 48, width: 48, device: 'cpu' });
    try {
      expect(store.info()).to.deep.include({ count: 6, height: 48, width: 48, bytes: 6 * 48 * 48 * 3, device: 'cpu' });
      // Rows 5..0 get images 0..5, written as two batches.
      await store.write([5, 4, 3], { data: batch.data.subarray(0, 3 * 48 * 48 * 3), shape: [3, 48, 48, 3] });
      await store.write([2, 1, 0], { data: batch.data.subarray(3 * 48 * 48 * 3), shape: [3, 48, 48, 3] });
      const direct = await model.logits(batch);
      const stored = await model.logitsStored(store, [5, 4, 3, 2, 1, 0]);
      expect(stored.flat()).to.deep.equal(direct.flat());
      const one = await model.logitsStored(store, [2]);
      expect(one[0]).to.deep.equal((await model.logits(imageOf(batch, 3)))[0]);
    } finally {
      store.dispose();
      model.dispose();
    }
  });

  it('trains identically from the store and from JS pixels, augmentation included', async () => {
    const fromJs = await Model.create({ imageSize: 48, device: 'cpu', seed: 4, trainable: 'all', learningRate: 1e-3 });
    const fromStore = await Model.create({ imageSize: 48, device: 'cpu', seed: 4, trainable: 'all', learningRate: 1e-3 });
    const store = await ImageStore.create({ count: 6, height: 48, width: 48, device: 'cpu' });
    try {
      await store.write([0, 1, 2, 3, 4, 5], batch);
      for (let step = 0; step < 3; step++) {
        const options = { classWeights: [1, 2], augment: { seed: 10 + step, maxRotationDegrees: 10 } };
        const a = await fromJs.trainStep(batch, labels, options);
        const b = await fromStore.trainStepStored(store, [0, 1, 2, 3, 4, 5], labels, options);
        expect(b.loss).to.equal(a.loss);
        expect(b.logits).to.deep.equal(a.logits);
      }
    } finally {
      store.dispose();
      fromJs.dispose();
      fromStore.dispose();
    }
  });

  it('refuses rows, shapes and disposed stores with messages that name them', async () => {
    const model = await Model.create({ imageSize: 32, device: 'cpu' });
    const store = await ImageStore.create({ count: 2, height: 32, width: 32, device: 'cpu' });
    try {
      const two = stripedBatch([0, 1], 32);
      expect(() => store.write([0, 2], two)).to.throw(/rows\[1\]/);
      expect(() => store.write([0], two)).to.throw(/Expected 2 rows for rows/);
      expect(() => store.write([0, 1], stripedBatch([0, 1], 16))).to.throw(/images of 32x32 for batch.shape/);
      expect((await rejection(model.logitsStored(store, []))).message).to.match(/1 to 4096 rows/);
      expect((await rejection(ImageStore.create({ count: 0, height: 32, width: 32, device: 'cpu' }))).message).to.match(/count/);
      store.dispose();
      expect((await rejection(model.logitsStored(store, [0]))).message).to.match(/disposed/);
    } finally {
      store.dispose();
      model.dispose();
    }
  });

  it('sets the learning rate between steps, in call order', async () => {
    // Only fc trains: every BatchNorm keeps its statistics, so unchanged weights mean unchanged logits.
    const a = await Model.create({ imageSize: 32, device: 'cpu', seed: 5, learningRate: 1e-3, trainable: 'fc' });
    const b = await Model.create({ imageSize: 32, device: 'cpu', seed: 5, learningRate: 1e-3, trainable: 'fc' });
    try {
      const two = stripedBatch([0, 1], 32);
      const zero = b.setLearningRate(0); // queued before the step: the step must not move b's weights
      const [ra, rb] = await Promise.all([a.trainStep(two, [0, 1]), b.trainStep(two, [0, 1])]);
      await zero;
      expect(rb.loss).to.equal(ra.loss);
      const before = await b.logits(two);
      await b.trainStep(two, [0, 1]);
      expect((await b.logits(two)).flat()).to.deep.equal(before.flat());
      expect(() => b.setLearningRate(-1)).to.throw(/learningRate/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
