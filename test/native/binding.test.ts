// The addon through src/native.ts: results, validation messages, checkpoints, training, and that
// compute never blocks the event loop.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { cudaAvailable, getThreads, libtorchVersion, Model, setThreads } from '../../src/native';
import { stripedBatch } from '../helpers/images';
import { rejection } from '../helpers/rejection';

describe('native binding', function () {
  this.timeout(120_000);
  let model: Model;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-binding-'));

  before(async () => {
    model = await Model.create({ imageSize: 64, device: 'cpu', seed: 3 });
  });
  after(() => {
    model.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('sets the thread count on the compute thread, in order with queued work, with the same answers', async () => {
    const before = getThreads();
    const batch = stripedBatch([0, 1], 64);
    const [reference, one] = await Promise.all([model.predict(batch), setThreads(1)]);
    expect(one).to.equal(1);
    expect(getThreads()).to.equal(1);
    const single = await model.predict(batch);
    expect(single.flat().map((v, i) => Math.abs(v - reference.flat()[i]))).to.satisfy((d: number[]) => d.every((x) => x < 1e-4));
    expect(await setThreads(before)).to.equal(before);
    expect(getThreads()).to.equal(before);
    expect((await rejection(setThreads(-1))).message).to.match(/Expected integer between 0 and 1024 for threads/);
  });

  it('reports its runtime and model settings', () => {
    expect(libtorchVersion()).to.match(/^\d+\.\d+/);
    expect(getThreads()).to.be.at.least(1);
    const info = model.info();
    expect(info).to.include({ device: 'cpu', numClasses: 2, trainable: 'layer4+fc', precision: 'fp32', imageSize: 64 });
    expect(info.parameters).to.equal(23_512_130); // 25,557,032 - 2,049,000 (1000-class fc) + 4,098
    expect(info.trainableParameters).to.equal(14_964_736 + 4_098);
  });

  it('predicts one probability row per image, of any input size', async () => {
    const probs = await model.predict(stripedBatch([0, 1, 1], 50));
    expect(probs).to.have.length(3);
    for (const row of probs) {
      expect(row).to.have.length(2);
      expect(row[0] + row[1]).to.be.closeTo(1, 1e-5);
    }
  });

  it('rejects malformed batches before they cross, naming the argument', async () => {
    const good = stripedBatch([0], 32);
    const short = { data: good.data.subarray(1), shape: good.shape };
    expect((await rejection(model.predict(short))).message)
      .to.match(/Expected 3072 bytes \(1x32x32x3\) for batch.data but received Uint8Array\(3071\)/);
    const gray = { data: good.data, shape: [1, 32, 96, 1] as const };
    expect((await rejection(model.predict(gray))).message).to.match(/Expected \[n, height, width, 3\] for batch.shape/);
    const notBytes = { data: Array.from(good.data) as unknown as Uint8Array, shape: good.shape };
    expect((await rejection(model.predict(notBytes))).message).to.match(/Expected Uint8Array of RGB pixels for batch.data/);
    expect((await rejection(model.trainStep(good, [2]))).message).to.match(/Expected integer between 0 and 1 for labels\[0\]/);
    expect((await rejection(model.trainStep(good, [0, 1]))).message).to.match(/Expected 1 labels for labels/);
    expect((await rejection(model.gradcam(stripedBatch([0, 1], 32)))).message).to.match(/shape\[0\] \(images\)/);
    expect((await rejection(Model.create({ trainable: 'layer3' as never }))).message)
      .to.match(/Expected one of 'fc', 'layer4\+fc', 'all' for trainable but received 'layer3'/);
  });

  it('turns native failures into errors with a readable message and the caller\'s stack', async () => {
    const missing = path.join(tmp, 'nope.pth');
    const err = await rejection(model.loadWeights(missing));
    expect(err.message).to.contain(missing);
    expect(err.message).not.to.match(/frame #|Exception raised from/);
    expect(err.stack).to.contain('binding.test.ts');

    const text = path.join(tmp, 'weights.pth');
    fs.writeFileSync(text, '<html>not weights</html>');
    expect((await rejection(model.loadWeights(text))).message).to.match(/not a torch.save file or .safetensors/);

    if (cudaAvailable()) {
      (await Model.create({ device: 'cuda', imageSize: 32 })).dispose();
    } else {
      expect((await rejection(Model.create({ device: 'cuda' }))).message).to.match(/CUDA is not available/);
    }
  });

  it('refuses a wrongly typed option in the native layer too, keeping the TypeError class', async () => {
    const err = await rejection(Model.create({ channelsLast: 'yes' as never, device: 'cpu' }));
    expect(err).to.be.instanceOf(TypeError);
    expect(err.message).to.equal('Expected a boolean for channelsLast.');
    expect(err.stack).to.contain('binding.test.ts');
    const augment = { seed: 1, horizontalFlip: 1 as never };
    const bad = await rejection(model.trainStep(stripedBatch([0], 64), [0], { augment }));
    expect(bad).to.be.instanceOf(TypeError);
    expect(bad.message).to.equal('Expected a boolean for horizontalFlip.');
  });

  it('trains: a few steps on a tiny batch reduce the loss', async () => {
    const learner = await Model.create({ imageSize: 64, trainable: 'all', learningRate: 1e-3, device: 'cpu', seed: 1 });
    try {
      const labels = [0, 1, 0, 1, 0, 1, 0, 1];
      const batch = stripedBatch(labels, 64, 5);
      const first = await learner.trainStep(batch, labels, { classWeights: [1, 1] });
      expect(first.logits).to.have.length(8);
      let last = first.loss;
      for (let i = 0; i < 8; i++) {
        // Only augmentations that keep left and right (the classes' cue) apart.
        const augment = { seed: i, horizontalFlip: false, rightAngleRotation: false, maxRotationDegrees: 10 };
        last = (await learner.trainStep(batch, labels, { augment })).loss;
      }
      expect(last).to.be.below(first.loss * 0.5);
    } finally {
      learner.dispose();
    }
  });

  it('saves and loads a checkpoint with its metadata, epoch and identical outputs', async () => {
    const file = path.join(tmp, 'sub', 'model.pt');
    const batch = stripedBatch([0, 1], 64);
    await model.trainStep(batch, [0, 1]);
    await model.save(file, { metadata: { magnification: '100X', classNames: ['benign', 'malignant'] }, epoch: 4 });
    expect(fs.readdirSync(path.dirname(file))).to.deep.equal(['model.pt']); // no temp file left behind
    const loaded = await Model.load(file, { device: 'cpu' });
    try {
      expect(loaded.epoch).to.equal(4);
      expect(loaded.metadata).to.deep.equal({ magnification: '100X', classNames: ['benign', 'malignant'] });
      expect(loaded.model.info()).to.deep.equal(model.info());
      const [a, b] = [await model.logits(batch), await loaded.model.logits(batch)];
      expect(Math.max(...a.flat().map((v, i) => Math.abs(v - b.flat()[i])))).to.be.below(1e-5);
    } finally {
      loaded.model.dispose();
    }
    expect((await rejection(Model.load(path.join(tmp, 'missing.pt')))).message).to.match(/does not exist/);
  });

  it('computes a Grad-CAM map in 0..1 at the image size', async () => {
    const cam = await model.gradcam(stripedBatch([1], 80), { targetClass: 1 });
    expect([cam.width, cam.height, cam.cam.length]).to.deep.equal([80, 80, 6400]);
    expect(Math.min(...cam.cam)).to.be.at.least(0);
    expect(Math.max(...cam.cam)).to.be.at.most(1 + 1e-6);
    expect(cam.targetClass).to.equal(1);
    expect(cam.probabilities[0] + cam.probabilities[1]).to.be.closeTo(1, 1e-5);
  });

  it('computes Grad-CAM for a batch in one call with a target class per image, as each image alone', async () => {
    const batch = stripedBatch([0, 1, 1], 80);
    const cams = await model.gradcamBatch(batch, { targetClasses: [1, 0, undefined] });
    expect(cams.map((c) => c.targetClass).slice(0, 2)).to.deep.equal([1, 0]);
    for (let i = 0; i < 3; i++) {
      const one = { data: batch.data.subarray(i * 80 * 80 * 3, (i + 1) * 80 * 80 * 3), shape: [1, 80, 80, 3] as const };
      const alone = await model.gradcam(one, { targetClass: i === 2 ? undefined : [1, 0][i] });
      expect(cams[i].targetClass).to.equal(alone.targetClass);
      expect(Math.max(...cams[i].cam.map((v, j) => Math.abs(v - alone.cam[j])))).to.be.below(1e-3);
    }
    expect((await rejection(model.gradcamBatch(batch, { targetClasses: [0, 1] }))).message).to.match(/Expected 3 target classes for targetClasses/);
    expect((await rejection(model.gradcamBatch(batch, { targetClasses: [0, 2, 1] }))).message).to.match(/Expected integer between 0 and 1 for targetClasses\[1\]/);
  });

  it('picks the default Grad-CAM target by a threshold on P(class 1) when given, else by arg-max', async () => {
    const batch = stripedBatch([0, 1, 1], 80);
    const plain = await model.gradcamBatch(batch);
    const malignant = plain.map((c) => c.probabilities[1]);
    expect(plain.map((c) => c.targetClass)).to.deep.equal(malignant.map((p) => (p >= 0.5 ? 1 : 0)));
    // Thresholds at 0 and 1 force each label; one at an image's own P(class 1) counts as reaching it.
    expect((await model.gradcamBatch(batch, { threshold: 0 })).map((c) => c.targetClass)).to.deep.equal([1, 1, 1]);
    expect((await model.gradcamBatch(batch, { threshold: 1 })).map((c) => c.targetClass)).to.deep.equal(malignant.map((p) => (p >= 1 ? 1 : 0)));
    const atFirst = await model.gradcamBatch(batch, { threshold: malignant[0], targetClasses: [undefined, 0, undefined] });
    expect(atFirst.map((c) => c.targetClass)).to.deep.equal([1, 0, malignant[2] >= malignant[0] ? 1 : 0]);
    expect((await rejection(model.gradcamBatch(batch, { threshold: 1.5 }))).message).to.match(/Expected number between 0 and 1 for threshold/);
  });

  it('keeps the event loop ticking while a 32-image batch is predicted', async () => {
    const full = await Model.create({ device: 'cpu' }); // 224 x 224, the study's size
    try {
      const batch = stripedBatch(Array.from({ length: 32 }, (_, i) => i % 2), 224);
      let ticks = 0;
      let longestGap = 0;
      let last = Date.now();
      const timer = setInterval(() => {
        const now = Date.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks++;
      }, 5);
      const started = Date.now();
      await full.predict(batch);
      const elapsed = Date.now() - started;
      clearInterval(timer);
      // A blocked loop would give 0-1 ticks and a gap as long as the whole prediction.
      expect(ticks).to.be.above(Math.min(20, elapsed / 20));
      expect(longestGap).to.be.below(Math.max(250, elapsed / 4));
    } finally {
      full.dispose();
    }
  });

  it('rejects every call after dispose, without crashing work already running', async () => {
    const temporary = await Model.create({ imageSize: 32, device: 'cpu' });
    const running = temporary.predict(stripedBatch([0], 32));
    temporary.dispose();
    expect(await running).to.have.length(1);
    expect(temporary.disposed).to.equal(true);
    expect((await rejection(temporary.predict(stripedBatch([0], 32)))).message).to.match(/disposed/);
    expect(() => temporary.info()).to.throw(/disposed/);
  });
});
