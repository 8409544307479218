import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

import {
  CSV_COLUMNS, decodeForModel, dihedral, expandInputs, globToRegExp, ModelRegistry, predictFiles, predictImages, writePredictions,
} from '../../src/infer';
import { renderSyntheticPng, syntheticPatients } from '../../src/data';
import { screenshotPng, transparentPng } from '../helpers/ood-images';
import { breakhisName, installModel, tissuePng, tmpDir } from './model-fixture';

describe('batch prediction (histoscope predict)', () => {
  let modelsDir: string;
  let images: string;
  let registry: ModelRegistry;

  before(async () => {
    modelsDir = tmpDir('batch-models');
    await installModel(modelsDir, '100X', { imageSize: 32, threshold: 0.4 });
    await installModel(modelsDir, '40X', { imageSize: 32, demo: true });
    registry = new ModelRegistry({ modelsDir });
    images = tmpDir('batch-images');
    fs.mkdirSync(path.join(images, 'slides', 'deep'), { recursive: true });
    for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(images, 'slides', breakhisName('100X', i)), await tissuePng(70, 46, i));
    fs.writeFileSync(path.join(images, 'slides', 'deep', breakhisName('40X', 1)), await tissuePng(70, 46, 9));
    fs.writeFileSync(path.join(images, 'slides', 'notes.txt'), 'not an image and not listed');
    fs.writeFileSync(path.join(images, 'plain.png'), await tissuePng(50, 50, 3));
    fs.writeFileSync(path.join(images, 'text.png'), 'this is text, not a PNG');
    fs.writeFileSync(path.join(images, 'truncated.png'), (await tissuePng(200, 200, 4)).subarray(0, 300));
  });
  after(() => registry.dispose());

  it('expands folders recursively and quoted globs, listing patterns that match nothing', async () => {
    const folder = await expandInputs([path.join(images, 'slides')]);
    expect(folder.files).to.have.length(6);
    expect(folder.files.every((f) => f.endsWith('.png'))).to.equal(true);
    const glob = await expandInputs([path.join(images, 'slides', '**', '*-40-*.png'), path.join(images, '*.jpg')]);
    expect(glob.files.map((f) => path.basename(f))).to.deep.equal([breakhisName('40X', 1)]);
    expect(glob.unmatched[0].reason).to.match(/matches no files/);
    expect(globToRegExp('a/*.png').test('a/b/c.png')).to.equal(false);
    expect(globToRegExp('a/**/*.png').test('a/b/c.png')).to.equal(true);
  });

  it('predicts each file with the model its BreakHis name names, in batches, with error rows for the rest', async () => {
    const result = await predictFiles({
      inputs: [path.join(images, 'slides'), path.join(images, 'text.png'), path.join(images, 'truncated.png'), path.join(images, 'plain.png'), path.join(images, 'gone.png')],
      registry, batchSize: 2,
    });
    const byName = new Map(result.rows.map((r) => [path.basename(r.path), r]));
    const ok = byName.get(breakhisName('100X', 1))!;
    expect(ok).to.include({ magnification: '100X', threshold: 0.4, modelId: '100X-fixture-32', demo: false, error: '' });
    expect(ok.probabilityMalignant).to.be.within(0, 1);
    expect(ok.label).to.equal(ok.probabilityMalignant! >= 0.4 ? 'malignant' : 'benign');
    const demo = byName.get(breakhisName('40X', 1))!;
    expect(demo).to.include({ magnification: '40X', demo: true });
    expect(demo.warning).to.match(/synthetic images.*must not be used on patients/);
    expect(byName.get('plain.png')!.error).to.match(/magnification is unknown/);
    expect(byName.get('gone.png')!.error).to.match(/does not exist/);
    expect(result.summary).to.include({ files: 10, predicted: 6, errors: 4, demo: true });
  });

  it('keeps rows in input order and each file its own answer when chunks decode while others run', async () => {
    // 37 files are two chunks of 32: the second decodes while the first is predicted.
    const dir = tmpDir('batch-chunks');
    const files: string[] = [];
    for (let i = 1; i <= 37; i++) {
      const file = path.join(dir, breakhisName('100X', 100 + i));
      fs.writeFileSync(file, i === 35 ? 'damaged' : await tissuePng(40 + i, 30, i));
      files.push(file);
    }
    const result = await predictFiles({ inputs: files, registry, batchSize: 8, decodeCache: 'off' });
    expect(result.rows.map((r) => r.path)).to.deep.equal(files);
    expect(result.rows[34].error).to.match(/PNG|image|decode|damaged|text/i);
    expect(result.summary).to.include({ files: 37, predicted: 36, errors: 1 });
    const loaded = await registry.get('100X');
    for (const i of [0, 31, 32, 36]) {
      const [alone] = await predictImages(loaded, [await decodeForModel(loaded, files[i])]);
      expect(result.rows[i].probabilityMalignant, files[i]).to.be.closeTo(alone[1], 1e-4);
    }
  });

  it('reports unreadable files as error rows when --mag is given', async () => {
    const result = await predictFiles({ inputs: [path.join(images, 'text.png'), path.join(images, 'truncated.png'), path.join(images, 'plain.png')], registry, magnification: '100X' });
    expect(result.rows.map((r) => r.error === '')).to.deep.equal([false, false, true]);
    expect(result.rows[0].error).to.match(/not an image/);
    expect(result.rows[1].error).to.match(/text\.png|truncated\.png/);
  });

  it('refuses, per file, a --mag that contradicts the BreakHis name, and names a missing model with its commands', async () => {
    const result = await predictFiles({ inputs: [path.join(images, 'slides', 'deep', breakhisName('40X', 1)), path.join(images, 'plain.png')], registry, magnification: '100X' });
    expect(result.rows[0].error).to.match(/file name says 40X but 100X was requested/);
    expect(result.rows[0].probabilityMalignant).to.equal(null);
    expect(result.rows[1].error).to.equal('');
    const missing = await predictFiles({ inputs: [path.join(images, 'plain.png')], registry, magnification: '400X' });
    expect(missing.rows[0].error).to.match(/No model is installed for 400X.*histoscope train/);
  });

  it('averages the eight dihedral views with --tta, so a rotated copy gets the same answer', async () => {
    const loaded = await registry.get('100X');
    const image = await decodeForModel(loaded, await tissuePng(64, 64, 11));
    const [plain] = await predictImages(loaded, [image]);
    const [tta] = await predictImages(loaded, [image], { tta: true });
    const views = await predictImages(loaded, Array.from({ length: 8 }, (_, k) => dihedral(image, k)));
    const mean = [0, 1].map((c) => views.reduce((s, v) => s + v[c], 0) / 8);
    expect(tta[1]).to.be.closeTo(mean[1], 1e-5);
    expect(Math.abs(tta[1] - plain[1])).to.be.above(1e-7);
    const [rotated] = await predictImages(loaded, [dihedral(image, 1)], { tta: true });
    expect(rotated[1]).to.be.closeTo(tta[1], 1e-4);
    // Through the files path too: TTA rows are marked and differ from plain ones.
    const file = path.join(images, 'slides', breakhisName('100X', 2));
    const a = await predictFiles({ inputs: [file], registry });
    const b = await predictFiles({ inputs: [file], registry, tta: true, batchSize: 4 });
    expect(b.rows[0]).to.include({ tta: true, error: '' });
    expect(b.rows[0].probabilityMalignant).not.to.equal(a.rows[0].probabilityMalignant);
  });

  it('writes CSV and JSON atomically, and Grad-CAM overlays at each image\'s size', async () => {
    const out = tmpDir('batch-out');
    const gradcamDir = path.join(out, 'cams');
    const result = await predictFiles({ inputs: [path.join(images, 'slides', '*-100-00[12].png')], registry, gradcamDir });
    expect(result.rows).to.have.length(2);
    for (const row of result.rows) {
      expect(fs.existsSync(row.gradcam), row.gradcam).to.equal(true);
      const meta = await sharp(row.gradcam).metadata();
      expect([meta.width, meta.height]).to.deep.equal([70, 46]);
      expect(fs.existsSync(row.gradcam.replace('.overlay.png', '.heatmap.png'))).to.equal(true);
    }
    await writePredictions(path.join(out, 'p.csv'), result);
    await writePredictions(path.join(out, 'p.json'), result);
    const csv = fs.readFileSync(path.join(out, 'p.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).to.equal(CSV_COLUMNS.join(','));
    expect(csv).to.have.length(3);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'p.json'), 'utf8'));
    expect(json.predictions[0]).to.include.keys('path', 'magnification', 'probabilityMalignant', 'label', 'threshold', 'modelId', 'demo');
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.tmp'))).to.deep.equal([]);
  });

  it('carries out-of-distribution warnings and the Grad-CAM method into rows, CSV and JSON', async () => {
    const dir = tmpDir('batch-ood');
    fs.writeFileSync(path.join(dir, 'screenshot.png'), await screenshotPng());
    fs.writeFileSync(path.join(dir, 'clear.png'), await transparentPng());
    fs.writeFileSync(path.join(dir, 'tile.png'), await renderSyntheticPng(syntheticPatients(2, 4)[0], '100X', 1, 700, 460, 4));
    const out = tmpDir('batch-ood-out');
    const result = await predictFiles({
      inputs: [dir], magnification: '100X', registry, gradcamDir: path.join(out, 'cams'), gradcamMethod: 'gradcam++',
    });
    const byName = new Map(result.rows.map((r) => [path.basename(r.path), r]));
    expect(byName.get('screenshot.png')!.warnings.map((w) => w.code)).to.deep.equal(['size', 'not-he', 'uniform']);
    expect(byName.get('clear.png')!.warnings.map((w) => w.code)).to.deep.equal(['transparent']);
    expect(byName.get('tile.png')!.warnings).to.deep.equal([]);
    for (const r of result.rows) {
      expect(r.error).to.equal('');
      expect(r.gradcamMethod).to.equal('gradcam++');
    }
    await writePredictions(path.join(out, 'p.csv'), result);
    await writePredictions(path.join(out, 'p.json'), result);
    const lines = fs.readFileSync(path.join(out, 'p.csv'), 'utf8').trim().split('\n');
    const header = lines[0].split(',');
    const screenshotLine = lines.find((l) => l.includes('screenshot.png'))!;
    expect(header.slice(-4)).to.deep.equal(['ood_warnings', 'ood_messages', 'gradcam_method', 'precision']);
    expect(screenshotLine).to.match(/,size;not-he;uniform,"?The image is 1280×1150 pixels; the 100X model was trained on 700×460 images.* \| The colours do not look like H&E/);
    expect(screenshotLine.endsWith(',gradcam++,fp32')).to.equal(true);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'p.json'), 'utf8'));
    const clear = json.predictions.find((r: { path: string }) => r.path.endsWith('clear.png'));
    expect(clear.warnings[0]).to.have.keys('code', 'message');
    expect(clear.warnings[0].code).to.equal('transparent');
  });
});
