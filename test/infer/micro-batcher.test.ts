// Micro-batching against a real (small, freshly initialised) ResNet-50: concurrent callers share
// native calls, yet each gets exactly the answer it would get alone, or its own error.
import { expect } from 'chai';

import { decodeForModel, type LoadedModel, MicroBatcher, ModelRegistry, type RgbImage } from '../../src/infer';
import { installModel, tissuePng, tmpDir } from './model-fixture';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const alone = (image: RgbImage): { data: Uint8Array; shape: [number, number, number, number] } =>
  ({ data: image.data, shape: [1, image.height, image.width, 3] });

describe('micro-batching', () => {
  let registry: ModelRegistry;
  let loaded: LoadedModel;
  let images: RgbImage[];
  before(async () => {
    const modelsDir = tmpDir('micro-batch');
    await installModel(modelsDir, '100X', { imageSize: 32 });
    registry = new ModelRegistry({ modelsDir });
    loaded = await registry.get('100X');
    images = await Promise.all([1, 2, 3, 4, 5, 6].map(async (seed) => decodeForModel(loaded, await tissuePng(70 + seed * 7, 46, seed))));
  });
  after(() => registry.dispose());

  it('gathers concurrent predictions into one native call, each caller getting its own probabilities', async () => {
    const batcher = new MicroBatcher(loaded.model, { maxBatch: 8, maxWaitMs: 20 });
    const batched = (await Promise.all(images.map((img) => batcher.predict(img)))).map((a) => a.probabilities);
    expect(batcher.stats).to.deep.equal({ calls: 1, images: 6, largestBatch: 6 });
    for (let i = 0; i < images.length; i++) {
      const [own] = await loaded.model.predict(alone(images[i]));
      expect(maxAbsDiff(batched[i], own), `image ${i}`).to.be.below(1e-4);
    }
    // The images differ, so a mix-up of answers would show.
    expect(new Set(batched.map((p) => p[1].toFixed(6))).size).to.be.greaterThan(1);
  });

  it('by default (no wait) gathers the requests of one event-loop turn, and a lone request goes at once', async () => {
    const batcher = new MicroBatcher(loaded.model);
    await Promise.all(images.slice(0, 3).map((img) => batcher.predict(img)));
    expect(batcher.stats).to.deep.equal({ calls: 1, images: 3, largestBatch: 3 });
    // One request, then another a timer later: the first did not wait for it.
    const first = batcher.predict(images[0]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.predict(images[1]);
    await Promise.all([first, second]);
    expect(batcher.stats.calls).to.equal(3);
  });

  it('never exceeds maxBatch, and requests arriving during a call go in the next one', async () => {
    const batcher = new MicroBatcher(loaded.model, { maxBatch: 4, maxWaitMs: 20 });
    const answers = await Promise.all([...images, ...images].map((img) => batcher.predict(img)));
    expect(answers).to.have.length(12);
    expect(batcher.stats.largestBatch).to.equal(4);
    expect(batcher.stats.calls).to.equal(3);
  });

  it('runs Grad-CAM for a batch with a target class per image, each map as if computed alone', async () => {
    const batcher = new MicroBatcher(loaded.model, { maxBatch: 8, maxWaitMs: 20 });
    const targets = [0, 1, undefined, 1, 0, undefined];
    const batched = await Promise.all(images.map((img, i) => batcher.gradcam(img, targets[i])));
    expect(batcher.stats.calls).to.equal(1);
    for (let i = 0; i < images.length; i++) {
      const own = await loaded.model.gradcam(alone(images[i]), { targetClass: targets[i] });
      expect(batched[i].targetClass, `image ${i}`).to.equal(own.targetClass);
      if (targets[i] !== undefined) expect(batched[i].targetClass).to.equal(targets[i]);
      expect([batched[i].width, batched[i].height]).to.deep.equal([32, 32]);
      expect(maxAbsDiff(batched[i].cam, own.cam), `image ${i} map`).to.be.below(1e-3);
      expect(maxAbsDiff(batched[i].probabilities, own.probabilities), `image ${i} probabilities`).to.be.below(1e-4);
    }
  });

  it('gives a failing request its own error while the others in its batch still get their answers', async () => {
    const batcher = new MicroBatcher(loaded.model, { maxBatch: 8, maxWaitMs: 20 });
    const broken: RgbImage = { data: new Uint8Array(10), width: 32, height: 32 };
    const settled = await Promise.allSettled([
      batcher.gradcam(images[0], 1),
      batcher.gradcam(images[1], 7), // no class 7: the batched call fails, then each runs alone
      batcher.gradcam(images[2], 0),
      batcher.predict(broken),
      batcher.predict(images[3]),
    ]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(((settled[1] as PromiseRejectedResult).reason as Error).message).to.match(/targetClasses\[0\].*7/);
    expect(((settled[3] as PromiseRejectedResult).reason as Error).message).to.match(/^Expected an RGB image .* but received 10 bytes for 32×32/);
    expect((settled[0] as PromiseFulfilledResult<{ targetClass: number }>).value.targetClass).to.equal(1);
    expect((settled[2] as PromiseFulfilledResult<{ targetClass: number }>).value.targetClass).to.equal(0);
    const own = await loaded.model.gradcam(alone(images[0]), { targetClass: 1 });
    expect(maxAbsDiff((settled[0] as PromiseFulfilledResult<{ cam: Float32Array }>).value.cam, own.cam)).to.be.below(1e-3);
  });

  it('drops a request whose caller left before its batch went', async () => {
    const batcher = new MicroBatcher(loaded.model, { maxBatch: 8, maxWaitMs: 30 });
    const leaving = new AbortController();
    const gone = batcher.predict(images[0], leaving.signal);
    const staying = batcher.predict(images[1]);
    leaving.abort(new Error('client left'));
    expect(((await gone.catch((e: unknown) => e)) as Error).message).to.equal('client left');
    expect((await staying).probabilities).to.have.length(2);
    expect(batcher.stats.images).to.equal(1);
  });

  it('refuses settings that cannot work, naming them', () => {
    expect(() => new MicroBatcher(loaded.model, { maxBatch: 0 })).to.throw(/^Expected a whole number of at least 1 for maxBatch but received 0\.$/);
    expect(() => new MicroBatcher(loaded.model, { maxWaitMs: -1 })).to.throw(/maxWaitMs but received -1/);
  });
});
