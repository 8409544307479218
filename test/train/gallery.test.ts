// The Grad-CAM gallery of a tiny real run (synthetic tiles, 64 px, one epoch): the files it
// promises, captions that agree with the model's own predictions, top losses that really are the
// highest-loss test images, a reproducible seeded sample, promotion into models/<mag>/, the model
// card page, and the flag that turns it off.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { overridesFromFlags } from '../../src/cli/train-commands';
import { applyThreshold, imageCrossEntropy, readModelCard, selectGallery } from '../../src/eval';
import { ModelRegistry } from '../../src/infer';
import { Model } from '../../src/native';
import {
  loadRunData, promoteRun, readRunConfig, readRunMetrics, resolveTrainConfig, trainRun, writeRunGallery, type GalleryIndex, type TrainEvent,
} from '../../src/train';
import { predictEntries, type EntryPrediction } from '../../src/train/predict-entries';
import { listen } from '../web/http-helpers';
import { fastOverrides, runCli, syntheticCohort, tmpDir } from './helpers';

/** Rows of a CSV written by src/util/csv.ts (no quoted commas in these files). */
function csvRows(file: string): Record<string, string>[] {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const keys = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}

const NAMES = ['benign', 'malignant'];

describe('the Grad-CAM gallery of a run', function () {
  this.timeout(600_000);
  let runDir: string;
  let gallery: string;
  let preds: EntryPrediction[];
  let threshold: number;
  const events: TrainEvent[] = [];

  before(async () => {
    const data = await syntheticCohort();
    const result = await trainRun(fastOverrides(data, path.join(tmpDir('gallery-run'), 'runs'), { maxEpochs: 1 }), { onEvent: (e) => events.push(e) });
    runDir = result.runDir;
    gallery = path.join(runDir, 'gallery');
    threshold = result.metrics!.threshold.threshold;
    // The test split predicted again, independently of the evaluation that wrote the gallery but
    // with best.pt loaded as evaluate loads it (BatchNorm folded), so losses agree to the last digit.
    const config = readRunConfig(runDir);
    const run = loadRunData(runDir, config);
    const { model } = await Model.load(path.join(runDir, 'best.pt'), { device: 'cpu', inferenceOnly: true });
    try {
      preds = await predictEntries(model, run.parts.test, { root: run.manifest.root, imageSize: config.imageSize, batchSize: 32 });
    } finally {
      model.dispose();
    }
  });

  it('writes both sheets, their CSVs, the errors per subtype and one overlay per image, under 2 MB', async () => {
    for (const f of ['gallery.png', 'gallery.svg', 'top-losses.png', 'top-losses.svg', 'gallery.csv', 'top-losses.csv', 'subtype-errors.csv', 'gallery.json']) {
      expect(fs.existsSync(path.join(gallery, f)), f).to.equal(true);
    }
    const index = JSON.parse(fs.readFileSync(path.join(gallery, 'gallery.json'), 'utf8')) as GalleryIndex;
    const plan = readRunConfig(runDir).gallery!;
    expect(index.sample).to.have.length(2 * plan.perClass);
    expect(index.topLosses).to.have.length(plan.topLosses);
    for (const item of [...index.sample, ...index.topLosses]) {
      const overlay = path.join(gallery, 'overlays', item.overlay);
      const meta = await sharp(overlay).metadata();
      expect(meta.format, item.overlay).to.equal('jpeg');
      expect(meta.width! / meta.height!).to.be.closeTo(140 / 92, 0.05); // the original's shape, not the model's square
    }
    const sheet = await sharp(path.join(gallery, 'top-losses.png')).metadata();
    expect(sheet.format).to.equal('png');
    expect(sheet.width).to.be.above(500);
    expect(fs.readFileSync(path.join(gallery, 'top-losses.svg'), 'utf8')).to.include('Test errors per subtype');
    // Errors per subtype: every test image counted once, errors as the threshold decides.
    const errors = csvRows(path.join(gallery, 'subtype-errors.csv'));
    expect(errors.reduce((n, r) => n + Number(r.images), 0)).to.equal(preds.length);
    const predicted = applyThreshold(preds.map((p) => p.probMalignant), threshold);
    const wrong = preds.filter((p, i) => p.label !== predicted[i]).length;
    expect(errors.reduce((n, r) => n + Number(r.errors), 0)).to.equal(wrong);
    let bytes = 0;
    for (const f of fs.readdirSync(gallery, { recursive: true }) as string[]) {
      const stat = fs.statSync(path.join(gallery, f));
      if (stat.isFile()) bytes += stat.size;
    }
    process.stderr.write(`      (gallery: ${(bytes / 1024).toFixed(0)} KiB)\n`);
    expect(bytes).to.be.below(2 * 2 ** 20);
    const written = events.find((e) => e.event === 'gallery');
    expect(written, 'gallery event').to.not.equal(undefined);
    expect(readRunMetrics(runDir).gallery).to.include({ 'gallery.png': 'gallery/gallery.png', 'top-losses.csv': 'gallery/top-losses.csv' });
  });

  it('captions each image with its true label and the prediction the model makes for it', () => {
    const byPath = new Map(preds.map((p) => [p.path, p]));
    for (const file of ['gallery.csv', 'top-losses.csv']) {
      const rows = csvRows(path.join(gallery, file));
      expect(rows.length, file).to.be.above(0);
      for (const r of rows) {
        const p = byPath.get(r.path)!;
        expect(p, r.path).to.not.equal(undefined);
        expect(r.true_label).to.equal(NAMES[p.label]);
        expect(r.predicted_label).to.equal(NAMES[p.probMalignant >= threshold ? 1 : 0]);
        expect(Number(r.probability_malignant)).to.be.closeTo(p.probMalignant, 1e-4);
        expect(r.patient).to.equal(p.patient);
        expect(r.subtype).to.equal(p.subtype);
        expect(fs.existsSync(path.join(gallery, r.overlay)), r.overlay).to.equal(true);
      }
    }
  });

  it('lists as top losses exactly the test images of highest cross-entropy, highest first', () => {
    const ranked = preds.map((p) => ({ path: p.path, loss: -Math.log(Math.max(p.probabilities[p.label], 1e-12)) }))
      .sort((a, b) => b.loss - a.loss);
    const rows = csvRows(path.join(gallery, 'top-losses.csv'));
    rows.forEach((r, i) => {
      expect(Number(r.loss)).to.be.closeTo(ranked[i].loss, 1e-3);
      expect(Number(r.rank)).to.equal(i + 1);
    });
    // No image left out has a higher loss than the last one listed.
    const listed = new Set(rows.map((r) => r.path));
    const lowestListed = Math.min(...rows.map((r) => Number(r.loss)));
    for (const p of preds.filter((q) => !listed.has(q.path))) expect(imageCrossEntropy(p.probabilities, p.label)).to.be.at.most(lowestListed + 1e-3);
  });

  it('chooses the same images for the same seed, others for another, spread over patients', async () => {
    const config = readRunConfig(runDir);
    const sample = csvRows(path.join(gallery, 'gallery.csv')).map((r) => r.path);
    const again = selectGallery(preds.slice().reverse(), { perClass: config.gallery!.perClass, seed: config.seed });
    expect(again.map((i) => preds.slice().reverse()[i].path)).to.deep.equal(sample);
    const others = [2, 3, 4, 5].map((seed) => selectGallery(preds, { perClass: config.gallery!.perClass, seed }).map((i) => preds[i].path));
    expect(others.some((o) => o.join() !== sample.join()), 'another seed picks other images').to.equal(true);
    for (const label of [0, 1]) {
      const ofClass = preds.filter((p) => p.label === label);
      const chosen = ofClass.filter((p) => sample.includes(p.path));
      const patients = new Set(ofClass.map((p) => p.patient)).size;
      expect(new Set(chosen.map((p) => p.patient)).size, `patients of class ${label}`).to.equal(Math.min(patients, chosen.length));
    }
    // Writing it again with the same seed gives the same files' choice.
    const { model } = await Model.load(path.join(runDir, 'best.pt'), { device: 'cpu', inferenceOnly: true });
    const copy = tmpDir('gallery-again');
    try {
      await writeRunGallery(model, copy, preds, {
        plan: config.gallery!, seed: config.seed, root: loadRunData(runDir, config).manifest.root, imageSize: config.imageSize, batchSize: 5, threshold, title: '100X',
      });
    } finally {
      model.dispose();
    }
    expect(csvRows(path.join(copy, 'gallery', 'gallery.csv')).map((r) => r.path)).to.deep.equal(sample);
    expect(fs.readFileSync(path.join(copy, 'gallery', 'top-losses.csv'), 'utf8')).to.equal(fs.readFileSync(path.join(gallery, 'top-losses.csv'), 'utf8'));
  });

  it('is carried by promote and shown on the model card page, linked from the form', async () => {
    const models = tmpDir('gallery-models');
    const card = await promoteRun(runDir, models);
    expect(card.gallery).to.include({ 'gallery.png': 'gallery/gallery.png', 'top-losses.png': 'gallery/top-losses.png' });
    for (const [name, rel] of Object.entries(card.gallery!)) {
      expect(fs.readFileSync(path.join(models, '100X', rel)).equals(fs.readFileSync(path.join(runDir, rel))), name).to.equal(true);
    }
    expect(readModelCard(path.join(models, '100X')).gallery).to.deep.equal(card.gallery);
    const registry = new ModelRegistry({ modelsDir: models });
    const server = await listen({ registry });
    try {
      const html = await (await fetch(`${server.url}/models/100X`)).text();
      expect(html).to.include('Grad-CAM gallery and top losses');
      expect(html).to.include('href="/models/100X/gallery/gallery.png"').and.include('src="/models/100X/gallery/top-losses.png"');
      const overlay = Object.keys(card.gallery!).find((n) => n.startsWith('loss-01-'))!;
      expect(html).to.include(`/models/100X/gallery/${encodeURIComponent(overlay)}`);
      for (const [name, type] of [['top-losses.png', 'image/png'], [overlay, 'image/jpeg'], ['top-losses.csv', 'text/csv']]) {
        const r = await fetch(`${server.url}/models/100X/gallery/${encodeURIComponent(name)}`);
        expect(r.status, name).to.equal(200);
        expect(r.headers.get('content-type')).to.include(type);
        expect(Buffer.from(await r.arrayBuffer()).equals(fs.readFileSync(path.join(models, '100X', card.gallery![name])))).to.equal(true);
      }
      for (const name of ['card.json', 'model.pt', '..%2Fcard.json', 'nothing.png']) {
        expect((await fetch(`${server.url}/models/100X/gallery/${name}`)).status, name).to.equal(404);
      }
      const form = await (await fetch(`${server.url}/?mag=100X`)).text();
      expect(form).to.include('href="/models/100X#gallery"');
    } finally {
      await server.close();
      registry.dispose();
    }
  });

  it('is turned off by --no-gallery, recorded in the run, and then left out of evaluate, promote and the page', async () => {
    expect(overridesFromFlags({ data: '/d', gallery: false }).gallery).to.equal(null);
    expect(overridesFromFlags({ data: '/d', gallery: true }).gallery).to.equal(undefined);
    expect(resolveTrainConfig({ data: '/d', gallery: null }).config.gallery).to.equal(null);
    expect(resolveTrainConfig({ data: '/d' }).config.gallery).to.deep.equal({ perClass: 4, topLosses: 8 });
    expect(() => resolveTrainConfig({ data: '/d', gallery: { perClass: -1, topLosses: 8 } })).to.throw(/Expected integer between 0 and 64 for gallery.perClass/);
    expect(() => resolveTrainConfig({ data: '/d', gallery: { perClass: 2, topLosses: 1.5 } })).to.throw(/gallery.topLosses/);
    // The same run evaluated again with the flag: no gallery written, none listed.
    const copy = path.join(tmpDir('gallery-off'), 'run');
    fs.cpSync(runDir, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'gallery'), { recursive: true });
    const r = await runCli('evaluate', copy, '--no-gallery', '--json');
    expect(r.code, r.err).to.equal(0);
    expect(fs.existsSync(path.join(copy, 'gallery'))).to.equal(false);
    expect(readRunMetrics(copy).gallery).to.equal(undefined);
    // A run whose recipe says no gallery: `gallery: null` in config.json.
    const config = JSON.parse(fs.readFileSync(path.join(copy, 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(copy, 'config.json'), JSON.stringify({ ...config, gallery: null }));
    expect((await runCli('evaluate', copy, '--json')).code).to.equal(0);
    expect(fs.existsSync(path.join(copy, 'gallery'))).to.equal(false);
    const models = tmpDir('gallery-off-models');
    const card = await promoteRun(copy, models);
    expect(card.gallery).to.equal(undefined);
    expect(fs.existsSync(path.join(models, '100X', 'gallery'))).to.equal(false);
    const registry = new ModelRegistry({ modelsDir: models });
    const server = await listen({ registry });
    try {
      expect(await (await fetch(`${server.url}/models/100X`)).text()).not.to.include('Grad-CAM gallery');
      expect((await fetch(`${server.url}/models/100X/gallery/gallery.png`)).status).to.equal(404);
      expect(await (await fetch(`${server.url}/?mag=100X`)).text()).not.to.include('#gallery');
    } finally {
      await server.close();
      registry.dispose();
    }
  });
});
