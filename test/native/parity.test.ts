// Parity with torchvision: the same seeded resnet50 state dict, saved by PyTorch in each format,
// gives the same logits (fp32, max abs difference <= 1e-4) and the same layer4 Grad-CAM
// (<= 1e-3 after normalisation) through the addon. Nothing is downloaded.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { type CamMethod, Model } from '../../src/native';
import { makePythonFixtures } from '../helpers/python-fixtures';

interface Reference {
  logits: number[][];
  gradcam: { targetClass: number; cam: number[] };
  cams: { image: number; targetClass: number; method: CamMethod; cam: number[] }[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('parity with torchvision resnet50 (fp32, CPU)', function () {
  this.timeout(300_000);
  let dir: string | null = null;
  let reference: Reference;
  let images: Uint8Array;

  before(function () {
    dir = makePythonFixtures('make_parity.py', 'the torchvision parity test');
    if (!dir) return this.skip();
    reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Reference;
    images = new Uint8Array(fs.readFileSync(path.join(dir, 'images.bin')));
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const file of ['resnet50-2class-zip.pth', 'resnet50-2class-legacy.pth', 'resnet50-2class.safetensors']) {
    it(`matches torchvision's logits and Grad-CAM after loading ${file}`, async () => {
      const model = await Model.create({ device: 'cpu', precision: 'fp32' });
      try {
        const report = await model.loadWeights(path.join(dir!, file));
        expect(report.headDropped).to.equal(false);
        expect(report.loaded).to.equal(320);

        const logits = await model.logits({ data: images, shape: [2, 224, 224, 3] });
        expect(maxAbsDiff(logits.flat(), reference.logits.flat())).to.be.at.most(1e-4);

        const cam = await model.gradcam({ data: images.subarray(0, 224 * 224 * 3), shape: [1, 224, 224, 3] });
        expect(cam.targetClass).to.equal(reference.gradcam.targetClass);
        expect([cam.width, cam.height]).to.deep.equal([224, 224]);
        expect(maxAbsDiff(cam.cam, reference.gradcam.cam)).to.be.at.most(1e-3);
      } finally {
        model.dispose();
      }
    });
  }

  it('matches an autograd reference for Grad-CAM and Grad-CAM++ (Chattopadhay et al. 2018) per class', async () => {
    const model = await Model.create({ device: 'cpu', precision: 'fp32' });
    try {
      await model.loadWeights(path.join(dir!, 'resnet50-2class-zip.pth'));
      expect(reference.cams.map((c) => c.method)).to.include.members(['gradcam', 'gradcam++']);
      for (const expected of reference.cams) {
        const size = 224 * 224 * 3;
        const image = { data: images.subarray(expected.image * size, (expected.image + 1) * size), shape: [1, 224, 224, 3] as const };
        const cam = await model.gradcam(image, { targetClass: expected.targetClass, method: expected.method });
        expect(maxAbsDiff(cam.cam, expected.cam), `${expected.method} image ${expected.image}`).to.be.at.most(1e-3);
      }
      await model.gradcam({ data: images.subarray(0, 224 * 224 * 3), shape: [1, 224, 224, 3] }, { method: 'scorecam' as CamMethod })
        .then(() => expect.fail('an unknown method was accepted'), (err: Error) => expect(err.message).to.match(/Expected one of 'gradcam', 'gradcam\+\+' for method but received/));
    } finally {
      model.dispose();
    }
  });

  it('still matches torchvision when loaded for inference only (BatchNorm folded, oneDNN-packed or not), and then refuses to train or be saved', async () => {
    const model = await Model.create({ device: 'cpu', precision: 'fp32' });
    const file = path.join(dir!, 'checkpoint.pt');
    await model.loadWeights(path.join(dir!, 'resnet50-2class-zip.pth'));
    await model.save(file);
    model.dispose();
    const plain = (await Model.load(file)).model;
    const { model: folded } = await Model.load(file, { inferenceOnly: true });
    // The same, with the oneDNN packing turned off (read when a model is folded).
    process.env.HISTOSCOPE_ONEDNN_PACKING = '0';
    const unpacked = await Model.load(file, { inferenceOnly: true }).finally(() => delete process.env.HISTOSCOPE_ONEDNN_PACKING);
    try {
      expect([plain.info().inferenceOnly, folded.info().inferenceOnly]).to.deep.equal([false, true]);
      expect([plain.info().oneDnnPacked, unpacked.model.info().oneDnnPacked]).to.deep.equal([false, false]);
      expect(folded.info().oneDnnPacked, 'Debian\'s libtorch has oneDNN: an fp32 CPU model is packed').to.equal(true);
      const batch = { data: images, shape: [2, 224, 224, 3] as const };
      const logits = await folded.logits(batch);
      expect(maxAbsDiff(logits.flat(), reference.logits.flat())).to.be.at.most(1e-4);
      // Folding changed the computation (the fixture's BatchNorm statistics are random), not the answer.
      expect(maxAbsDiff(logits.flat(), (await plain.logits(batch)).flat())).to.be.above(0);
      const unpackedLogits = (await unpacked.model.logits(batch)).flat();
      expect(maxAbsDiff(unpackedLogits, reference.logits.flat())).to.be.at.most(1e-4);
      expect(maxAbsDiff(unpackedLogits, logits.flat()), 'packed and plain weights are two computations').to.be.above(0);
      const cam = await folded.gradcam({ data: images.subarray(0, 224 * 224 * 3), shape: [1, 224, 224, 3] });
      expect(cam.targetClass).to.equal(reference.gradcam.targetClass);
      expect(maxAbsDiff(cam.cam, reference.gradcam.cam)).to.be.at.most(1e-3);

      const refused = async (what: Promise<unknown>, pattern: RegExp): Promise<void> => {
        await what.then(() => expect.fail('an inference-only model accepted it'), (err: Error) => expect(err.message).to.match(pattern));
      };
      await refused(folded.trainStep(batch, [0, 1]), /loaded for inference only .* cannot train\. Load the checkpoint again without inferenceOnly/);
      await refused(folded.save(path.join(dir!, 'folded.pt')), /cannot be saved/);
      await refused(folded.loadWeights(path.join(dir!, 'resnet50-2class-zip.pth')), /cannot load other weights/);
      expect(fs.existsSync(path.join(dir!, 'folded.pt'))).to.equal(false);
      // The refusals left it working.
      expect(maxAbsDiff((await folded.logits(batch)).flat(), logits.flat())).to.equal(0);
    } finally {
      plain.dispose();
      folded.dispose();
      unpacked.model.dispose();
    }
  });

  it('drops an ImageNet 1000-class head with a notice and keeps the rest strict', async () => {
    const model = await Model.create({ device: 'cpu' });
    try {
      const report = await model.loadWeights(path.join(dir!, 'resnet50-1000class.pth'));
      expect(report.headDropped).to.equal(true);
      expect(report.loaded).to.equal(318);
      expect(report.notices.join(' ')).to.match(/Dropped the file's classifier head \(fc\) of 1000 classes/);
    } finally {
      model.dispose();
    }
  });
});
