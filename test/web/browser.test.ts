// The page in a real browser: Debian's Chromium driven headless by playwright-core. Uploads a
// BreakHis-named tile, checks the magnification was pre-selected from its name, picks one anyway,
// submits, and reads the label, the probability and the overlay. Saves a screenshot for people.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { formatBreakhisName, renderSyntheticPng, syntheticPatients } from '../../src/data';
import { ModelRegistry } from '../../src/infer';
import { installModel, tmpDir } from '../infer/model-fixture';
import { listen, type Running } from './http-helpers';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

describe('web page in Chromium', function () {
  this.timeout(120_000);
  let registry: ModelRegistry;
  let server: Running;
  let tile: string;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`      SKIPPED: ${CHROMIUM} is missing (apt-get install chromium) — the browser test did not run.`);
      this.skip();
    }
    const modelsDir = tmpDir('browser-models');
    await installModel(modelsDir, '100X', { imageSize: 224, demo: true });
    await installModel(modelsDir, '400X', { imageSize: 224 });
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry });
    const patient = syntheticPatients(4, 3).find((p) => p.cls === 'malignant')!;
    tile = path.join(tmpDir('browser-tile'), formatBreakhisName({ cls: patient.cls, subtype: patient.subtype, patient: patient.patient, magnification: '100X', sequence: 7 }));
    fs.writeFileSync(tile, await renderSyntheticPng(patient, '100X', 7, 700, 460, 3));
  });
  after(async () => {
    await server?.close();
    registry?.dispose();
  });

  it('uploads an image, picks a magnification, and shows a label, a probability and the Grad-CAM overlay', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const cspErrors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') cspErrors.push(m.text()); });
      await page.goto(`${server.url}/?mag=400X`);
      await page.setInputFiles('#image', tile);
      // app.js read the BreakHis name and chose 100X.
      expect(await page.inputValue('#mag')).to.equal('100X');
      expect(await page.textContent('#mag-note')).to.match(/selected from the BreakHis file name/);
      await page.selectOption('#mag', '100X');
      await Promise.all([page.waitForURL(`${server.url}/`), page.click('#submit')]);
      await page.waitForSelector('#result');
      expect(await page.textContent('#label')).to.match(/^(Benign|Malignant)$/);
      expect(await page.textContent('#probability')).to.match(/^P\(malignant\) = 0\.\d{3}$/);
      const overlayWidth = await page.$eval('#overlay', (img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete ? (img as unknown as { naturalWidth: number }).naturalWidth : 0);
      expect(overlayWidth).to.equal(700);
      expect(await page.isVisible('.banner-demo')).to.equal(true);
      expect(await page.textContent('.metrics')).to.match(/Accuracy/);
      expect(cspErrors.filter((e) => /Content Security Policy/i.test(e))).to.deep.equal([]);
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-result.png'), fullPage: true });
      await page.goto(`${server.url}/models/400X`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-model-card.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
