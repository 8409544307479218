// The page in a real browser: Debian's Chromium driven headless by playwright-core. Uploads a
// BreakHis-named tile, checks the magnification was pre-selected from its name, submits, and reads
// the verdict, the rule and the overlay; then each page behaviour: the metrics panel following the
// selector (also by keyboard), no sideways scrolling from 320 px up with the verdict in view, the
// viewer controls, the file kept after an error, the selector fixed on a mismatch, many files as a
// table, and the single-file form without JavaScript. Saves screenshots for people.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';

import { formatBreakhisName, renderSyntheticPng, syntheticPatients } from '../../src/data';
import { ModelRegistry } from '../../src/infer';
import { installModel, tmpDir } from '../infer/model-fixture';
import { listen, type Running } from './http-helpers';

// What the callbacks run inside the page use, typed loosely: this project compiles without the DOM library.
declare const document: { documentElement: { scrollWidth: number; clientWidth: number }; getElementById(id: string): { textContent: string | null } | null };
declare function getComputedStyle(element: unknown): { opacity: string };
type Img = { naturalWidth: number };
type FileInput = { files: { length: number; [i: number]: { name: string } } | null };

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

/** Pixels the page is wider than its viewport (0: no sideways scrolling). */
const overflow = (page: Page): Promise<number> =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('web page in Chromium', function () {
  this.timeout(240_000);
  let registry: ModelRegistry;
  let server: Running;
  let browser: Browser;
  let tile: string;
  let tiles: string[];
  let notImage: string;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.log(`      SKIPPED: ${CHROMIUM} is missing (apt-get install chromium) — the browser test did not run.`);
      this.skip();
    }
    const modelsDir = tmpDir('browser-models');
    await installModel(modelsDir, '100X', { imageSize: 224, demo: true });
    await installModel(modelsDir, '400X', { imageSize: 224, threshold: 0.7 });
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry });
    const dir = tmpDir('browser-tile');
    const patients = syntheticPatients(4, 3);
    const patient = patients.find((p) => p.cls === 'malignant')!;
    tile = path.join(dir, formatBreakhisName({ cls: patient.cls, subtype: patient.subtype, patient: patient.patient, magnification: '100X', sequence: 7 }));
    fs.writeFileSync(tile, await renderSyntheticPng(patient, '100X', 7, 700, 460, 3));
    tiles = [];
    for (const [i, mag] of (['100X', '400X', '100X'] as const).entries()) {
      const p = patients[i];
      const file = path.join(dir, formatBreakhisName({ cls: p.cls, subtype: p.subtype, patient: p.patient, magnification: mag, sequence: 20 + i }));
      fs.writeFileSync(file, await renderSyntheticPng(p, mag, 20 + i, 350, 230, 3));
      tiles.push(file);
    }
    notImage = path.join(dir, 'notes.png');
    fs.writeFileSync(notImage, 'these are notes, not a picture');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    registry?.dispose();
  });

  /** A page that records CSP errors and 404s, which every test checks at its end. */
  async function openPage(width: number, javaScriptEnabled = true): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(m.text()); });
    page.on('response', (r) => { if (r.status() === 404) problems.push(`404 ${r.url()}`); });
    return { page, problems };
  }

  it('uploads an image and shows the verdict with its rule, a probability bar and the Grad-CAM overlay at full size', async () => {
    const { page, problems } = await openPage(1280);
    await page.goto(`${server.url}/?mag=400X`);
    await page.setInputFiles('#image', tile);
    // app.js read the BreakHis name and chose 100X, showed a preview, and the metrics followed.
    expect(await page.inputValue('#mag')).to.equal('100X');
    expect(await page.textContent('#mag-note')).to.match(/selected from the BreakHis file name/);
    expect(await page.isVisible('#preview')).to.equal(true);
    expect(await page.isVisible('.metrics-panel[data-mag="100X"]')).to.equal(true);
    expect(await page.isVisible('.metrics-panel[data-mag="400X"]')).to.equal(false);
    await Promise.all([page.waitForURL(/\/results\/[A-Za-z0-9_-]{22}#result$/), page.click('#submit')]);
    await page.waitForSelector('#result');
    expect(await page.textContent('#label')).to.match(/^(Benign|Malignant)$/);
    expect(await page.textContent('#probability')).to.match(/^P\(malignant\) = 0\.\d{3}$/);
    expect(await page.textContent('#rule')).to.match(/^Rule: malignant if P ≥ 0\.50, otherwise benign/);
    expect(await page.getAttribute('#verdict', 'aria-live')).to.equal('polite');
    expect(await page.isVisible('#probbar')).to.equal(true);
    expect(await page.getAttribute('#probbar .probbar-threshold', 'x1')).to.equal('50.00'); // the marker sits at the threshold
    expect(await page.getAttribute('.banner-demo', 'role')).to.equal('note');
    expect(await page.textContent('#legend')).to.match(/no evidence/);
    // The viewer: full-resolution pictures, the map as a layer whose opacity follows the slider.
    const natural = await page.$eval('#heatmap-layer', (img) => (img as unknown as Img).naturalWidth);
    expect(natural).to.equal(700);
    await page.fill('#opacity', '30');
    expect(await page.$eval('#heatmap-layer', (img) => getComputedStyle(img).opacity)).to.equal('0.3');
    await page.click('#toggle-map');
    expect(await page.isVisible('#heatmap-layer')).to.equal(false);
    await page.click('#toggle-map');
    await page.check('input[name=layout][value=overlay]');
    expect(await page.isVisible('#figure-image')).to.equal(false);
    await page.selectOption('#zoom', 'full');
    expect(await page.$eval('#overlay', (img) => img.getBoundingClientRect().width)).to.be.closeTo(700, 3);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-result.png'), fullPage: true });
    await page.goto(`${server.url}/models/400X`);
    expect(await page.getAttribute('nav a[href="/models/400X"]', 'aria-current')).to.equal('page');
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-model-card.png'), fullPage: true });
    expect(problems).to.deep.equal([]);
  });

  it('moves the metrics panel with the selector, also by arrow keys', async () => {
    const { page, problems } = await openPage(1280);
    await page.goto(`${server.url}/?mag=100X`);
    await page.selectOption('#mag', '400X');
    expect(await page.isVisible('.metrics-panel[data-mag="400X"]')).to.equal(true);
    expect(await page.isVisible('.metrics-panel[data-mag="100X"]')).to.equal(false);
    await page.focus('#mag');
    await page.keyboard.press('ArrowUp');
    const chosen = await page.inputValue('#mag');
    expect(chosen).not.to.equal('400X');
    expect(await page.isVisible('.metrics-panel[data-mag="400X"]')).to.equal(false);
    if (chosen === '100X') expect(await page.isVisible('.metrics-panel[data-mag="100X"]')).to.equal(true);
    expect(problems).to.deep.equal([]);
  });

  it('never scrolls sideways from 320 px up, and brings the verdict into view at 375 px', async () => {
    for (const width of [320, 375]) {
      const { page } = await openPage(width);
      await page.goto(`${server.url}/?mag=400X`);
      expect(await overflow(page), `form at ${width} px`).to.equal(0);
      await page.goto(`${server.url}/models/400X`);
      expect(await overflow(page), `model card at ${width} px`).to.equal(0);
      if (width !== 375) continue;
      await page.goto(`${server.url}/`);
      await page.setInputFiles('#image', tile);
      await Promise.all([page.waitForURL(/\/results\//), page.click('#submit')]);
      await page.waitForSelector('#verdict');
      expect(await overflow(page), `result at ${width} px`).to.equal(0);
      const box = await page.$eval('#verdict', (el) => { const r = el.getBoundingClientRect(); return { top: r.top, bottom: r.bottom }; });
      expect(box.top).to.be.at.least(0);
      expect(box.top).to.be.below(800);
      await page.screenshot({ path: path.join(ARTIFACTS, 'web-result-375.png'), fullPage: false });
    }
  });

  it('keeps the chosen file after an error, and switches the selector to the file\'s magnification on a mismatch', async () => {
    const { page } = await openPage(1280);
    await page.goto(`${server.url}/`);
    await page.setInputFiles('#image', notImage);
    await page.selectOption('#mag', '400X');
    await page.click('#submit');
    await page.waitForSelector('#error');
    expect(await page.textContent('#error')).to.match(/Not analysed\..*text file/);
    expect(await page.$eval('#image', (el) => (el as unknown as FileInput).files?.[0]?.name)).to.equal('notes.png');
    expect(page.url()).to.equal(`${server.url}/`);
    // A 100X file name submitted as 400X: refused, and the selector now says 100X.
    await page.setInputFiles('#image', tile);
    await page.selectOption('#mag', '400X');
    await page.click('#submit');
    await page.waitForFunction(() => /file name says 100X/.test(document.getElementById('error')?.textContent ?? ''));
    expect(await page.inputValue('#mag')).to.equal('100X');
    expect(await page.isVisible('.metrics-panel[data-mag="100X"]')).to.equal(true);
    expect(await page.$eval('#image', (el) => (el as unknown as FileInput).files?.length)).to.equal(1);
  });

  it('analyses many files into a table as results arrive, with a CSV of them', async () => {
    const { page, problems } = await openPage(1280);
    await page.goto(`${server.url}/`);
    expect(await page.isVisible('#batch')).to.equal(true);
    await page.setInputFiles('#batch-files', tiles);
    await page.click('#batch-run');
    await page.waitForFunction(() => /3 of 3 analysed/.test(document.getElementById('batch-status')?.textContent ?? ''), undefined, { timeout: 120_000 });
    const rows = await page.$$eval('#batch-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[2])).to.deep.equal(['100X', '400X', '100X']);
    for (const r of rows) {
      expect(r[3]).to.match(/^(benign|malignant)$/);
      expect(r[4]).to.match(/^0\.\d{3} \(rule: ≥ 0\.(50|70)\)$/);
    }
    expect(rows[0][5]).to.match(/demo model/);
    expect(await page.$$eval('#batch-table img', (imgs) => imgs.every((i) => (i as unknown as Img).naturalWidth === 350))).to.equal(true);
    const href = await page.getAttribute('#batch-csv', 'href');
    const csv = await (await fetch(`${server.url}${href}`)).text();
    expect(csv.trim().split('\n')).to.have.length(4);
    expect(csv).to.include(path.basename(tiles[1]));
    expect(problems).to.deep.equal([]);
  });

  it('works without JavaScript: the single-file form posts and the result page shows the verdict and overlay', async () => {
    const { page, problems } = await openPage(375, false);
    await page.goto(`${server.url}/`);
    expect(await page.isVisible('#batch')).to.equal(false);
    await page.setInputFiles('#image', tile);
    await page.selectOption('#mag', '100X');
    await Promise.all([page.waitForURL(/\/results\/[A-Za-z0-9_-]{22}#result$/), page.click('#submit')]);
    expect(await page.textContent('#label')).to.match(/^(Benign|Malignant)$/);
    expect(await page.$eval('#overlay', (img) => (img as unknown as Img).naturalWidth)).to.equal(700);
    expect(await overflow(page)).to.equal(0);
    // Without the script the browser's own scroll to #result brings the verdict into view.
    expect(await page.$eval('#verdict', (el) => el.getBoundingClientRect().top)).to.be.below(800);
    expect(problems).to.deep.equal([]);
  });
});
