import { expect } from 'chai';
import sharp from 'sharp';

import { batcherFor, decodeForModel, ModelRegistry, predictImages, renderGradcam, type LoadedModel } from '../../src/infer';
import { stack } from '../../src/infer/predict-images';
import { installModel, tissuePng, tmpDir } from './model-fixture';
import { gc } from '../helpers/gc';

const rawOf = async (png: Buffer): Promise<{ data: Buffer; width: number; height: number }> => {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

describe('Grad-CAM pictures', () => {
  let registry: ModelRegistry;
  let loaded: LoadedModel;
  before(async () => {
    const modelsDir = tmpDir('gradcam');
    await installModel(modelsDir, '200X', { imageSize: 32, threshold: 0.3 });
    registry = new ModelRegistry({ modelsDir });
    loaded = await registry.get('200X');
  });
  after(() => registry.dispose());

  it('writes heatmap and overlay at the original size, with the same prediction as the predict path', async () => {
    const png = await tissuePng(130, 70, 5);
    const pictures = await renderGradcam(loaded, png);
    expect(pictures).to.include({ width: 130, height: 70, originalWidth: 130, originalHeight: 70 });
    for (const file of [pictures.heatmapPng, pictures.overlayPng]) {
      const meta = await sharp(file).metadata();
      expect([meta.format, meta.width, meta.height]).to.deep.equal(['png', 130, 70]);
    }
    const [probs] = await predictImages(loaded, [await decodeForModel(loaded, png)]);
    expect(pictures.prediction.probabilities.malignant).to.be.closeTo(probs[1], 1e-4);
  });

  it('stops before its next step once its signal aborts (a client that left gets no more work)', async () => {
    const png = await tissuePng(60, 40, 3);
    const before = new AbortController();
    before.abort();
    const early = await renderGradcam(loaded, png, { signal: before.signal }).catch((e: Error) => e);
    expect(early).to.be.instanceOf(Error).with.property('name', 'AbortError');
    // Aborted while the native Grad-CAM call runs: the call finishes, the pictures are never made.
    const during = new AbortController();
    const started = renderGradcam(loaded, png, { signal: during.signal });
    setImmediate(() => during.abort());
    const late = await started.catch((e: Error) => e);
    expect(late).to.be.instanceOf(Error).with.property('name', 'AbortError');
    const done = await renderGradcam(loaded, png, { signal: new AbortController().signal });
    expect(done.overlayPng.length).to.be.above(0);
  });

  it('explains the label shown, not the arg-max class, when the card\'s threshold makes them differ', async () => {
    const png = await tissuePng(60, 40, 9);
    const [[, malignant]] = await predictImages(loaded, [await decodeForModel(loaded, png)]);
    const argmax = malignant >= 0.5 ? 1 : 0;
    // A threshold on the other side of this image's P(malignant) from 0.5 flips the label shown.
    const threshold = argmax === 1 ? (1 + malignant) / 2 : malignant / 2;
    const modelsDir = tmpDir('gradcam-threshold');
    await installModel(modelsDir, '40X', { imageSize: 32, threshold });
    const other = new ModelRegistry({ modelsDir });
    try {
      const thresholded = await other.get('40X');
      const calls = batcherFor(thresholded.model).stats.calls;
      const pictures = await renderGradcam(thresholded, png);
      expect(pictures.prediction.classIndex).to.equal(1 - argmax);
      expect(pictures.targetClass).to.equal(1 - argmax);
      // In one native pass: the threshold picks the target before the backward.
      expect(batcherFor(thresholded.model).stats.calls - calls).to.equal(1);
      const [chosen] = await thresholded.model.gradcamBatch(stack([await decodeForModel(thresholded, png)]), { targetClasses: [1 - argmax] });
      expect(Array.from(pictures.modelView.cam)).to.deep.equal(Array.from(chosen.cam));
    } finally {
      other.dispose();
    }
  });

  it('blends with the opacity asked for: 0 shows the image, 1 the map where evidence is full and the image where there is none', async () => {
    const png = await tissuePng(40, 30, 6);
    const clear = await renderGradcam(loaded, png, { opacity: 0, includeImage: true });
    const image = (await rawOf(clear.imagePng!)).data;
    expect((await rawOf(clear.overlayPng)).data.equals(image)).to.equal(true);
    // At 64 px, layer4 is 2×2, so the map has both strong and no evidence (at 32 px it is flat).
    const modelsDir = tmpDir('gradcam-64');
    await installModel(modelsDir, '40X', { imageSize: 64 });
    const larger = new ModelRegistry({ modelsDir });
    const solid = await renderGradcam(await larger.get('40X'), png, { opacity: 1 }).finally(() => larger.dispose());
    const { data: layer, info } = await sharp(solid.heatmapPng).raw().toBuffer({ resolveWithObject: true });
    expect(info.channels).to.equal(4); // transparent where there is no evidence
    const alphas = [...layer.filter((_, i) => i % 4 === 3)];
    expect([Math.min(...alphas), Math.max(...alphas)]).to.deep.equal([0, 255]);
    const overlay = (await rawOf(solid.overlayPng)).data;
    // Each pixel is the layer over the image by the layer's alpha (evidence): full evidence shows
    // the map's colour, none shows the tissue untouched.
    for (let p = 0; p < info.width * info.height; p++) {
      const a = layer[p * 4 + 3] / 255;
      for (let c = 0; c < 3; c++) {
        expect(Math.abs(overlay[p * 3 + c] - ((1 - a) * image[p * 3 + c] + a * layer[p * 4 + c])), `pixel ${p}`).to.be.at.most(1);
      }
    }
    await renderGradcam(loaded, png, { opacity: 1.2 }).then(() => expect.fail('accepted opacity 1.2'), (err: Error) => expect(err.message).to.match(/opacity/));
  });

  it('explains the class asked for, and scales pictures down to maxSide', async () => {
    const png = await tissuePng(200, 100, 7);
    const benign = await renderGradcam(loaded, png, { targetClass: 0, maxSide: 50 });
    const malignant = await renderGradcam(loaded, png, { targetClass: 1 });
    expect([benign.targetClass, malignant.targetClass]).to.deep.equal([0, 1]);
    expect([benign.width, benign.height, benign.originalWidth]).to.deep.equal([50, 25, 200]);
  });

  it('keeps memory flat over 100 calls, two in flight', async function () {
    this.timeout(300_000);
    const png = await tissuePng(48, 32, 8);
    // Warm-up as measured, two in flight: the micro-batcher then runs batches of one and two
    // images, and each batch size warms its own allocator blocks and oneDNN primitives.
    for (let i = 0; i < 10; i++) await Promise.all([renderGradcam(loaded, png), renderGradcam(loaded, png, { targetClass: 1 })]);
    gc();
    const before = process.memoryUsage().rss;
    const started = Date.now();
    // Two in flight, as a server runs them: one call's decode/colour/encode overlaps the other's native work.
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 100) {
        next++;
        await renderGradcam(loaded, png, { targetClass: (next % 2) as 0 | 1 });
      }
    };
    await Promise.all([worker(), worker()]);
    gc();
    const growthMb = (process.memoryUsage().rss - before) / 1e6;
    console.log(`      100 Grad-CAM calls in ${((Date.now() - started) / 1000).toFixed(1)} s; RSS growth ${growthMb.toFixed(1)} MB after warm-up`);
    // A leaked autograd graph per call (about a megabyte at 32 px) would exceed this many times
    // over; test/native/gradcam-memory.test.ts bounds a single leaked activation per call.
    expect(growthMb).to.be.below(8);
  });
});
