// Out-of-distribution warnings: every real BreakHis image of the shared sample passes silently;
// screenshots, photos, flat colours, transparent, tiny and strip-shaped images warn. Synthetic
// generator tiles pass too: they are drawn in optical-density space from H&E stain vectors with
// texture, which these colour and texture checks cannot tell from tissue (see docs/ARCHITECTURE.md).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

import {
  BREAKHIS_IMAGE_SIZE, decodeImage, geometryWarnings, imageWarnings, type ImageWarning, listFiles, renderSyntheticPng,
  stainFeatures, syntheticPatients, type TrainingImages,
} from '../../src/data';
import { flatPng, landscapePng, portraitPng, resizedPng, screenshotPng, transparentPng } from '../helpers/ood-images';
import { samplePath } from './helpers';

const training: TrainingImages = { ...BREAKHIS_IMAGE_SIZE, model: 'the 100X model' };

async function warningsFor(input: string | Buffer): Promise<ImageWarning[]> {
  const pixels = await decodeImage(input, { size: 224, fit: 'fill' });
  return imageWarnings(input, pixels, { training });
}

const codes = (warnings: readonly ImageWarning[]): string[] => warnings.map((w) => w.code);

describe('data: out-of-distribution warnings', function () {
  this.timeout(300_000);

  it('never warns on a real BreakHis image of the shared sample', async function () {
    if (!fs.existsSync(samplePath)) {
      console.log(`      (skipped: the real BreakHis sample is not at ${samplePath})`);
      return this.skip();
    }
    const files = (await listFiles(samplePath)).filter((f) => /\.png$/i.test(f));
    expect(files.length).to.be.at.least(300);
    const warned: string[] = [];
    for (const file of files) {
      const w = await warningsFor(path.join(samplePath, file));
      if (w.length) warned.push(`${path.basename(file)}: ${codes(w).join(', ')}`);
    }
    expect(warned).to.deep.equal([]);
  });

  it('warns that a UI screenshot is neither H&E nor the training size', async () => {
    const w = await warningsFor(await screenshotPng());
    expect(codes(w)).to.deep.equal(['size', 'not-he', 'uniform']);
    expect(w.find((x) => x.code === 'size')!.message).to.match(/1280×1150 pixels; the 100X model was trained on 700×460 images/);
    // At the training size a screenshot still is not H&E.
    expect(codes(await warningsFor(await screenshotPng(700, 460)))).to.deep.equal(['not-he', 'uniform']);
  });

  it('warns on a screenshot of a page that shows tissue: its drawn areas have no sensor noise', async () => {
    const tissue = await renderSyntheticPng(syntheticPatients(2, 3)[1], '100X', 1, 350, 230, 3);
    const page = await sharp(await screenshotPng(700, 460)).composite([{ input: tissue, left: 300, top: 200 }]).png().toBuffer();
    const w = await warningsFor(page);
    expect(codes(w)).to.include('uniform');
    expect(w.find((x) => x.code === 'uniform')!.message).to.match(/^\d+% of neighbouring pixels have exactly the same colour/);
  });

  it('warns on photos and flat colours, H&E-pink flat colour included', async () => {
    expect(codes(await warningsFor(await landscapePng()))).to.include('not-he').and.include('flat');
    expect(codes(await warningsFor(await portraitPng()))).to.include('not-he').and.include('flat');
    expect(codes(await warningsFor(await flatPng([230, 120, 190])))).to.deep.equal(['flat']);
    expect(codes(await warningsFor(await flatPng([255, 255, 255])))).to.deep.equal(['no-tissue', 'flat']);
  });

  it('warns on a fully transparent PNG, whatever its hidden colours', async () => {
    const w = await warningsFor(await transparentPng());
    expect(codes(w)).to.deep.equal(['transparent']);
    expect(w[0].message).to.match(/100% of the image is transparent/);
  });

  it('warns on tiny images and strips, even cut from real tissue', async () => {
    const tissue = await renderSyntheticPng(syntheticPatients(2, 3)[1], '100X', 1, 700, 460, 3);
    expect(codes(await warningsFor(await resizedPng(tissue, 16, 10)))).to.deep.equal(['tiny']);
    expect(codes(await warningsFor(await resizedPng(tissue, 1, 1)))).to.deep.equal(['tiny']);
    const strip = await warningsFor(await resizedPng(tissue, 4000, 1));
    expect(codes(strip)).to.deep.equal(['strip']);
    expect(strip[0].message).to.match(/4000×1 pixels, a strip \(sides 4000:1\)/);
    expect(geometryWarnings(40000, 1, training)[0].code).to.equal('strip');
    expect(geometryWarnings(500, 328, training)).to.deep.equal([]);
    expect(codes(geometryWarnings(1400, 920, training))).to.deep.equal(['size']);
  });

  it('lets synthetic generator tiles pass (H&E-like by construction) and says why in numbers', async () => {
    for (const [i, p] of syntheticPatients(4, 9).entries()) {
      const png = await renderSyntheticPng(p, '40X', i + 1, 700, 460, 9);
      expect(codes(await warningsFor(png)), p.patient).to.deep.equal([]);
      const f = stainFeatures(await decodeImage(png, { size: 224 }));
      expect(f.stainFraction).to.be.above(0.5);
      expect(f.texture).to.be.above(2);
    }
  });
});
