import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { ModelRegistry } from '../../src/infer';
import { transparentPng } from '../helpers/ood-images';
import { installModel, tissuePng, tmpDir } from '../infer/model-fixture';
import { listen, multipart, type Running } from './http-helpers';

/** A card without faithfulness numbers shows no such section. */
const withoutFaithfulness = (html: string): boolean => !html.includes('id="faithfulness"');

describe('web pages', () => {
  let registry: ModelRegistry;
  let server: Running;
  let modelsDir: string;

  before(async () => {
    modelsDir = tmpDir('pages-models');
    await installModel(modelsDir, '100X', { demo: true });
    await installModel(modelsDir, '400X');
    // A plot the card lists, and a file beside the models folder that must stay unreachable.
    fs.mkdirSync(path.join(modelsDir, '400X', 'plots'));
    fs.writeFileSync(path.join(modelsDir, '400X', 'plots', 'roc.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    const card = JSON.parse(fs.readFileSync(path.join(modelsDir, '400X', 'card.json'), 'utf8'));
    card.plots = { roc: 'plots/roc.svg', escape: '../../secret.svg' };
    card.recipe.data = '/secret/server/path/BreaKHis_v1';
    card.recipe.runsDir = '/secret/server/runs';
    card.metrics.faithfulness = {
      images: 8, seed: 1, steps: 10, seconds: 30,
      methods: { 'gradcam': { deletion: 0.312, insertion: 0.701, randomDeletion: 0.455, randomInsertion: 0.598 },
        'gradcam++': { deletion: 0.298, insertion: 0.712, randomDeletion: 0.455, randomInsertion: 0.598 } },
    };
    fs.writeFileSync(path.join(modelsDir, '400X', 'card.json'), JSON.stringify(card));
    fs.writeFileSync(path.join(modelsDir, 'secret.svg'), '<svg/>');
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry });
  });
  after(async () => {
    await server.close();
    registry.dispose();
  });

  it('serves the form with labelled controls, a script from this server only, and the demo banner', async () => {
    const r = await fetch(`${server.url}/?mag=400X`);
    expect(r.status).to.equal(200);
    const html = await r.text();
    expect(html).to.include('<label for="image">').and.include('<label for="mag">');
    expect(html).to.include('up to 20 MB'); // the server's upload cap, not a copy of it
    expect(html).to.match(/<option value="400X"\s+selected>/);
    expect(html).to.include('40X — no model installed');
    expect(html).to.match(/<strong>DEMO MODEL\.<\/strong> Trained on synthetic images/);
    expect(html).to.include('<script src="/static/app.js" defer></script>');
    expect(html).not.to.match(/<script>|\sstyle=|\son\w+=/); // nothing inline: the CSP forbids it
    expect(html).to.include('Patient-level recognition rate').and.include('True malignant');
    const js = await fetch(`${server.url}/static/app.js`);
    expect(js.status).to.equal(200);
    expect(js.headers.get('content-type')).to.match(/javascript/);
  });

  it('shows no demo banner when only real models are installed', async () => {
    const dir = tmpDir('pages-real');
    await installModel(dir, '200X');
    const realRegistry = new ModelRegistry({ modelsDir: dir });
    const real = await listen({ registry: realRegistry });
    try {
      const html = await (await fetch(`${real.url}/`)).text();
      expect(html).not.to.match(/DEMO MODEL|demo model|synthetic/i);
    } finally {
      await real.close();
      realRegistry.dispose();
    }
  });

  it('renders a model card page with the card\'s numbers and no server paths', async () => {
    const html = await (await fetch(`${server.url}/models/400X`)).text();
    const card = registry.card('400X');
    expect(html).to.include(card.id);
    expect(html).to.include(`${(100 * card.metrics.test.metrics.accuracy).toFixed(1)}%`);
    expect(html).to.include('BreaKHis_v1').and.not.include('/secret/server');
    expect(html).to.include('/models/400X/plots/roc');
    expect(html).to.match(/Deletion \/ insertion AUC on 8 test images \(seed 1\)/);
    expect(html).to.match(/<th scope="row">Grad-CAM\+\+<\/th>\s*<td>0\.298 \[0\.455\]<\/td><td>0\.712 \[0\.598\]<\/td>/);
    expect(html).to.match(/its interval is a 95% Wilson score interval over 8 patients/);
    expect(withoutFaithfulness(await (await fetch(`${server.url}/models/100X`)).text())).to.equal(true);
    // Readable: a date in words, a titled plot, no raw null, the header link marked as this page.
    expect(html).to.include('1 January 2025, 00:00 UTC').and.not.include('2025-01-01T00:00:00.000Z<');
    expect(html).to.include('<figcaption>ROC curve on the test split, with the operating point</figcaption>');
    expect(html).not.to.match(/>null</);
    expect(html).to.match(/<a href="\/models\/400X" aria-label="400X model card" aria-current="page">/);
    // Only installed models are linked: 40X and 200X have no card to show here.
    expect([...html.matchAll(/<a href="\/models\/(\w+)" aria-label/g)].map((m) => m[1])).to.deep.equal(['100X', '400X']);
    const demo = await (await fetch(`${server.url}/models/100X`)).text();
    expect(demo).to.include('synthetic images');
    expect(demo).to.include('<code>histoscope train --data BREAKHIS_FOLDER --mag 100X</code>').and.not.include('`');
    expect(demo).to.include('role="note"').and.not.include('role="alert"');
    const missing = await fetch(`${server.url}/models/40X`);
    expect(missing.status).to.equal(404);
    expect(await missing.text()).to.include('histoscope train');
  });

  it('serves only the plots a card lists, only from inside the model folder', async () => {
    const plot = await fetch(`${server.url}/models/400X/plots/roc`);
    expect(plot.status).to.equal(200);
    expect(plot.headers.get('content-type')).to.match(/svg/);
    for (const name of ['escape', '..%2F..%2Fsecret.svg', 'constructor']) {
      expect((await fetch(`${server.url}/models/400X/plots/${name}`)).status, name).to.equal(404);
    }
  });

  it('says on the result page and in the API when the server runs models in another precision than they were trained in', async () => {
    const fastRegistry = new ModelRegistry({ modelsDir, precision: 'bf16' });
    const fast = await listen({ registry: fastRegistry });
    try {
      const api = await fetch(`${fast.url}/api/predict?mag=400X`, { method: 'POST', body: await tissuePng(90, 60, 3), headers: { 'content-type': 'image/png' } });
      const json = await api.json() as { precision: unknown; precisionNote: string };
      expect(json.precision).to.deep.equal({ computed: 'bf16', measured: 'fp32' });
      expect(json.precisionNote).to.match(/^Computed in bf16;/);
      const form = multipart([{ name: 'mag', value: '400X' }, { name: 'image', file: { name: 'x.png', type: 'image/png', data: await tissuePng(90, 60, 3) } }]);
      const posted = await fetch(`${fast.url}/`, { method: 'POST', body: form.body, headers: { 'content-type': form.type }, redirect: 'manual' });
      const html = await (await fetch(`${fast.url}${posted.headers.get('location')}`)).text();
      const kept = await (await fetch(`${fast.url}${posted.headers.get('location')!.replace('#result', '')}/result.csv`)).text();
      expect(kept.trim().split('\n')[1]).to.match(/Computed in bf16;.*,bf16$/);
      expect(html).to.match(/id="precision-note">Computed in bf16; this model&#39;s card metrics were measured in fp32\./);
      const plain = await (await fetch(`${server.url}/api/predict?mag=400X`, { method: 'POST', body: await tissuePng(90, 60, 3), headers: { 'content-type': 'image/png' } })).json() as object;
      expect(plain).not.to.have.property('precisionNote');
    } finally {
      await fast.close();
      fastRegistry.dispose();
    }
    // A card measured in bf16 (evaluate --precision bf16) of an fp32-trained model says so, and is served so.
    const dir = tmpDir('pages-bf16');
    await installModel(dir, '200X');
    const cardFile = path.join(dir, '200X', 'card.json');
    const card = JSON.parse(fs.readFileSync(cardFile, 'utf8'));
    card.metrics.precision = 'bf16';
    fs.writeFileSync(cardFile, JSON.stringify(card));
    const measured = new ModelRegistry({ modelsDir: dir });
    const measuredServer = await listen({ registry: measured });
    try {
      const html = await (await fetch(`${measuredServer.url}/models/200X`)).text();
      expect(html).to.match(/id="measured-precision">Measured with the model running in bf16 \(trained in fp32\); it is served in bf16/);
      const answer = await (await fetch(`${measuredServer.url}/api/predict?mag=200X`, { method: 'POST', body: await tissuePng(90, 60, 3), headers: { 'content-type': 'image/png' } })).json() as { precision: unknown };
      expect(answer.precision).to.deep.equal({ computed: 'bf16', measured: 'bf16' });
    } finally {
      await measuredServer.close();
      measured.dispose();
    }
  });

  it('answers a form submission with a redirect to the result\'s own page, and a bad one with a sentence on the form', async () => {
    const form = multipart([{ name: 'mag', value: '400X' }, { name: 'image', file: { name: 'x.png', type: 'image/png', data: await tissuePng(90, 60, 3) } }]);
    const posted = await fetch(`${server.url}/`, { method: 'POST', body: form.body, headers: { 'content-type': form.type }, redirect: 'manual' });
    expect(posted.status).to.equal(303); // reloading the result page does not send the upload again
    const location = posted.headers.get('location')!;
    expect(location).to.match(/^\/results\/[A-Za-z0-9_-]{22}#result$/);
    const ok = await fetch(`${server.url}${location}`);
    expect(ok.status).to.equal(200);
    const html = await ok.text();
    expect(html).to.match(/id="label">(Benign|Malignant)</);
    expect(html).to.match(/id="probability">P\(malignant\) = 0\.\d{3}</);
    expect(html).to.match(/Rule: malignant if P ≥ 0\.50, otherwise benign/);
    expect(html).to.match(/id="overlay" src="\/results\/[A-Za-z0-9_-]{22}\/overlay\.png"/);
    expect(html).not.to.include('base64'); // pictures are their own URLs, not inlined
    expect(html.length).to.be.below(40_000);
    expect(html).to.match(/aria-live="polite"/);
    const bad = multipart([{ name: 'mag', value: '400X' }, { name: 'image', file: { name: 'x.png', type: 'image/png', data: Buffer.from('hello') } }]);
    const refused = await fetch(`${server.url}/`, { method: 'POST', body: bad.body, headers: { 'content-type': bad.type } });
    expect(refused.status).to.equal(415);
    expect(await refused.text()).to.match(/id="error"><strong>Not analysed\.<\/strong> The uploaded file is a text file/);
    // A file named for 100X sent as 400X: refused, and the form comes back set to the file's 100X.
    const named = multipart([{ name: 'mag', value: '400X' }, { name: 'image', file: { name: 'SOB_M_DC-14-2523-100-007.png', type: 'image/png', data: await tissuePng(90, 60, 3) } }]);
    const mismatch = await fetch(`${server.url}/`, { method: 'POST', body: named.body, headers: { 'content-type': named.type } });
    expect(mismatch.status).to.equal(400);
    expect(await mismatch.text()).to.match(/<option value="100X"\s+selected>/);
  });

  it('serves a favicon', async () => {
    const icon = await fetch(`${server.url}/favicon.ico`);
    expect(icon.status).to.equal(200);
    expect(icon.headers.get('content-type')).to.match(/svg/);
  });

  it('offers Grad-CAM++ in the form, and shows warnings and the method on the result', async () => {
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).to.match(/<select id="method" name="method">/);
    expect(page).to.match(/<option value="gradcam\+\+" >Grad-CAM\+\+<\/option>/);
    const form = multipart([{ name: 'mag', value: '400X' }, { name: 'method', value: 'gradcam++' },
      { name: 'image', file: { name: 'x.png', type: 'image/png', data: await transparentPng() } }]);
    const res = await fetch(`${server.url}/`, { method: 'POST', body: form.body, headers: { 'content-type': form.type } });
    expect(res.status).to.equal(200);
    const html = await res.text();
    expect(html).to.match(/id="warnings"/);
    expect(html).to.match(/<li data-code="transparent">100% of the image is transparent/);
    expect(html).to.match(/<figcaption>Grad-CAM\+\+ for <strong id="explained">/);
    expect(html).to.match(/<option value="gradcam\+\+" selected>/);
    expect(html).to.match(/95% CI [\d.]+%–[\d.]+%\s*\(Wilson, 8 patients\)/);
  });
});
