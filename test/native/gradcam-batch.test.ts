// Model.gradcamBatch through src/native.ts: the maps and probabilities of one batched call are
// those of the one-image Grad-CAM, image by image, and bad target lists are refused in words.
import { expect } from 'chai';

import { Model } from '../../src/native';
import { stripedBatch } from '../helpers/images';
import { rejection } from '../helpers/rejection';

describe('batched Grad-CAM', function () {
  this.timeout(120_000);
  let model: Model;

  before(async () => {
    model = await Model.create({ imageSize: 64, device: 'cpu', seed: 5 });
  });
  after(() => model.dispose());

  it('gives each image the map and probabilities of the one-image call', async () => {
    const batch = stripedBatch([0, 1, 1], 72);
    const targets = [1, 0, 1];
    const cams = await model.gradcamBatch(batch, { targetClasses: targets });
    expect(cams).to.have.length(3);
    const size = 72 * 72 * 3;
    for (const [i, cam] of cams.entries()) {
      const one = await model.gradcam({ data: batch.data.subarray(i * size, (i + 1) * size), shape: [1, 72, 72, 3] }, { targetClass: targets[i] });
      expect([cam.width, cam.height, cam.cam.length, cam.targetClass]).to.deep.equal([72, 72, 72 * 72, targets[i]]);
      expect(Math.max(...cam.cam.map((v, j) => Math.abs(v - one.cam[j])))).to.be.below(1e-4);
      expect(cam.probabilities[1]).to.be.closeTo(one.probabilities[1], 1e-5);
    }
    const argmax = await model.gradcamBatch(batch);
    argmax.forEach((c) => expect(c.targetClass).to.equal(c.probabilities[1] > c.probabilities[0] ? 1 : 0));
  });

  it('runs a bf16 model in bf16, so its Grad-CAM probabilities are its predictions\' (and differ from fp32)', async () => {
    const fast = await Model.create({ imageSize: 64, device: 'cpu', seed: 5, precision: 'bf16' });
    try {
      const batch = stripedBatch([0, 1, 1], 72);
      const [cams, predicted, cams32] = [await fast.gradcamBatch(batch), await fast.predict(batch), await model.gradcamBatch(batch)];
      cams.forEach((c, i) => expect(c.probabilities[1]).to.be.closeTo(predicted[i][1], 1e-6));
      expect(cams.some((c, i) => Math.abs(c.probabilities[1] - cams32[i].probabilities[1]) > 1e-6)).to.equal(true);
      cams.forEach((c, i) => expect(c.probabilities[1]).to.be.closeTo(cams32[i].probabilities[1], 0.05));
    } finally {
      fast.dispose();
    }
  });

  it('refuses a target list of the wrong length or class', async () => {
    const batch = stripedBatch([0, 1], 64);
    expect((await rejection(model.gradcamBatch(batch, { targetClasses: [0] }))).message).to.match(/Expected 2 target classes for targetClasses/);
    expect((await rejection(model.gradcamBatch(batch, { targetClasses: [0, 2] }))).message).to.match(/targetClasses\[1\]/);
  });
});
