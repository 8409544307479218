// Serving a model in another precision than it was trained in (bf16 on CPUs with AMX): the
// registry loads it so, the answers stay close to the model's own, and every answer says so.
import { expect } from 'chai';

import { decodeForModel, ModelRegistry, predictImages, toPrediction } from '../../src/infer';
import { analyseImage } from '../../src/infer/analyse-image';
import { Model } from '../../src/native';
import { installModel, tissuePng, tmpDir } from './model-fixture';

describe('inference precision', () => {
  let modelsDir: string;
  let own: ModelRegistry;
  let bf16: ModelRegistry;

  before(async () => {
    modelsDir = tmpDir('precision-models');
    await installModel(modelsDir, '100X', { imageSize: 64 });
    own = new ModelRegistry({ modelsDir });
    bf16 = new ModelRegistry({ modelsDir, precision: 'bf16' });
  });
  after(() => {
    own.dispose();
    bf16.dispose();
  });

  it('loads the checkpoint in bf16 and predicts within bf16 rounding of its own fp32 answers', async () => {
    const [a, b] = [await own.get('100X'), await bf16.get('100X')];
    expect(a.precision).to.equal('fp32');
    expect(b.precision).to.equal('bf16');
    expect(b.model.info().precision).to.equal('bf16');
    const images = await Promise.all([1, 2, 3, 4].map(async (i) => decodeForModel(a, await tissuePng(140, 92, i))));
    const [pa, pb] = [await predictImages(a, images), await predictImages(b, images)];
    const gaps = pa.map((p, i) => Math.abs(p[1] - pb[i][1]));
    expect(Math.max(...gaps)).to.be.below(0.05);
    expect(gaps.some((g) => g > 0)).to.equal(true); // it really ran in another precision
  });

  it('says on each answer when it was computed in another precision than the card measured', async () => {
    const png = await tissuePng(140, 92, 5);
    const plain = await analyseImage(await own.get('100X'), png);
    expect(plain.prediction.precision).to.deep.equal({ computed: 'fp32', measured: 'fp32' });
    expect(plain.prediction.precisionNote).to.equal(undefined);
    const fast = await analyseImage(await bf16.get('100X'), png, { gradcam: true });
    expect(fast.prediction.precision).to.deep.equal({ computed: 'bf16', measured: 'fp32' });
    expect(fast.prediction.precisionNote).to.match(/^Computed in bf16; this model's card metrics were measured in fp32\./);
    const card = (await own.get('100X')).card;
    const trainedBf16 = toPrediction([0.4, 0.6], { ...card, recipe: { ...card.recipe, precision: 'bf16' } }, false, 'bf16');
    expect(trainedBf16.precisionNote).to.equal(undefined);
    // A card measured in bf16 (evaluate --precision bf16) of an fp32-trained model: bf16 is its own.
    const measuredBf16 = { ...card, metrics: { ...card.metrics, precision: 'bf16' as const } };
    expect(toPrediction([0.4, 0.6], measuredBf16, false, 'bf16').precision).to.deep.equal({ computed: 'bf16', measured: 'bf16' });
    expect(toPrediction([0.4, 0.6], measuredBf16, false, 'fp32').precisionNote).to.match(/^Computed in fp32; this model's card metrics were measured in bf16\./);
  });

  it('refuses a precision it does not know, naming it', async () => {
    let error: Error | undefined;
    await Model.load('nowhere.pt', { precision: 'fp16' as 'bf16' }).catch((e: Error) => { error = e; });
    expect(error?.message).to.match(/precision/);
    expect(error?.message).to.match(/fp16/);
  });
});
