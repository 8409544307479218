// A model trained with stain normalisation (and HED augmentation) on synthetic tiles keeps its
// target in best.pt and card.json; the promoted model applies it in predict and in the web server
// exactly as evaluation did; `evaluate --stain-shift` writes its table, JSON and plot, and the
// card shows them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '../../src/data';
import { readModelCard } from '../../src/eval/model-card';
import { ModelRegistry, predictImages } from '../../src/infer';
import { Model, NO_STAIN_TARGET } from '../../src/native';
import { evaluateStainShift, promoteRun, readRunConfig, readRunStainTarget, trainRun, type TrainRunResult } from '../../src/train';
import { predictEntries } from '../../src/train/predict-entries';
import { loadRunData } from '../../src/train/run-data';
import { fastOverrides, syntheticCohort, tmpDir } from '../train/helpers';
import { listen, postImage, type Running } from '../web/http-helpers';

describe('a model trained with stain normalisation', function () {
  this.timeout(600_000);
  let result: TrainRunResult;
  let models: string;

  before(async () => {
    const data = await syntheticCohort();
    result = await trainRun(fastOverrides(data, path.join(tmpDir('stain-runs'), 'runs'), {
      maxEpochs: 1, stainNorm: 'macenko', stainTarget: 'train', augmentation: { hedStrength: 0.05 },
    }));
    models = path.join(tmpDir('stain-models'), 'models');
  });

  it('records the normalisation and augmentation in the run and its checkpoint', async () => {
    const config = readRunConfig(result.runDir);
    expect(config.stainNorm).to.equal('macenko');
    expect(config.augmentation.hedStrength).to.equal(0.05);
    const stain = readRunStainTarget(result.runDir)!;
    expect(stain.target.method).to.equal('macenko');
    expect(stain.images).to.be.above(0);
    const { model } = await Model.load(path.join(result.runDir, 'best.pt'), { device: 'cpu' });
    expect(model.info().stain).to.deep.equal(stain.target);
    model.dispose();
  });

  it('evaluate --stain-shift writes a table, JSON and plot; strength 0 with the model\'s normalisation is the plain evaluation', async () => {
    const report = await evaluateStainShift(result.runDir, { strengths: [0, 0.2], seed: 3 });
    expect(report.rows.map((r) => `${r.strength}/${r.role}`)).to.deep.equal(['0/model', '0/without', '0.2/model', '0.2/without']);
    const metrics = JSON.parse(fs.readFileSync(path.join(result.runDir, 'metrics.json'), 'utf8'));
    const plain = report.rows.find((r) => r.strength === 0 && r.role === 'model')!;
    expect(report.precision).to.equal(metrics.precision); // the precision the card's metrics were measured in
    expect(plain.accuracy).to.equal(metrics.test.metrics.accuracy);
    expect(plain.weightedF1).to.equal(metrics.test.metrics.weightedF1);
    const markdown = fs.readFileSync(path.join(result.runDir, 'stain-shift.md'), 'utf8');
    expect(markdown).to.match(/\| HED strength +\| normalisation +\| accuracy +\| weighted F1 +\| ROC-AUC +\| fallbacks +\|/);
    expect(markdown.split('\n').filter((l) => /^\| +0\.2 +\|/.test(l))).to.have.length(2);
    for (const rel of Object.values(report.plots)) expect(fs.statSync(path.join(result.runDir, rel)).size, rel).to.be.above(500);
    expect(fs.readFileSync(path.join(result.runDir, 'plots', 'stain-shift.svg'), 'utf8')).to.match(/without normalisation/);
  });

  it('is promoted with its target and stain-shift report on the card', async () => {
    const card = await promoteRun(result.runDir, models);
    const stain = readRunStainTarget(result.runDir)!;
    expect(readModelCard(path.join(models, '100X'))).to.deep.equal(card);
    expect(card.stain).to.deep.include({ method: 'macenko', values: stain.target.values, fittedTo: 'train' });
    expect(card.stainShift?.rows).to.have.length(4);
    expect(fs.existsSync(path.join(models, '100X', card.plots['stain-shift.svg']))).to.equal(true);
  });

  it('normalises in predict and the web server exactly as evaluation did', async () => {
    const config = readRunConfig(result.runDir);
    const data = loadRunData(result.runDir, config);
    const entries = data.parts.test.slice(0, 4);
    const { model } = await Model.load(path.join(result.runDir, 'best.pt'), { device: 'cpu' });
    const evaluated = await predictEntries(model, entries, { root: data.manifest.root, imageSize: config.imageSize, batchSize: 4 });
    const unnormalised = await predictEntries(model, entries, { root: data.manifest.root, imageSize: config.imageSize, batchSize: 4, stain: NO_STAIN_TARGET });
    model.dispose();
    // The normalisation matters for this model: without it the answers move.
    expect(Math.max(...evaluated.map((p, i) => Math.abs(p.probMalignant - unnormalised[i].probMalignant)))).to.be.above(1e-4);

    const registry = new ModelRegistry({ modelsDir: models, device: 'cpu' });
    let server: Running | undefined;
    try {
      const loaded = await registry.get('100X');
      const images = await Promise.all(entries.map((e) => decodeImage(path.join(data.manifest.root, e.path), { size: config.imageSize, fit: 'fill' })));
      const predicted = await predictImages(loaded, images);
      predicted.forEach((p, i) => expect(p[1], `predict ${i}`).to.be.closeTo(evaluated[i].probMalignant, 1e-5));
      server = await listen({ registry });
      for (const [i, e] of entries.entries()) {
        const r = await postImage(`${server.url}/api/predict?mag=100X`, fs.readFileSync(path.join(data.manifest.root, e.path)), 'image/png');
        expect(r.status).to.equal(200);
        expect((r.json.probabilities as { malignant: number }).malignant, `web ${i}`).to.be.closeTo(evaluated[i].probMalignant, 1e-5);
        expect(r.json.stain).to.deep.equal({ method: 'macenko', fallback: false });
      }
      // A blank upload falls back visibly instead of failing or giving NaN.
      const white = await import('sharp').then((m) => m.default({ create: { width: 140, height: 92, channels: 3, background: '#ffffff' } }).png().toBuffer());
      const blank = await postImage(`${server.url}/api/predict?mag=100X`, white, 'image/png');
      expect(blank.status).to.equal(200);
      expect(blank.json.stain).to.deep.equal({ method: 'macenko', fallback: true });
      expect(blank.json.stainNote).to.match(/left this image unchanged/);
      expect(Number.isFinite((blank.json.probabilities as { malignant: number }).malignant)).to.equal(true);
      // The result page says so too, and a normalised image's page does not.
      const page = async (answer: Record<string, unknown>): Promise<string> =>
        (await fetch(`${server!.url}${(answer.links as { json: string }).json.replace(/\/result\.json$/, '')}`)).text();
      expect(await page(blank.json)).to.match(/<p class="help" id="stain-note">[^<]*left this image unchanged/);
      const normalised = await postImage(`${server.url}/api/predict?mag=100X`, fs.readFileSync(path.join(data.manifest.root, entries[0].path)), 'image/png');
      expect(await page(normalised.json)).to.include('id="result"').and.not.include('id="stain-note"');
    } finally {
      await server?.close();
      registry.dispose();
    }
  });
});
