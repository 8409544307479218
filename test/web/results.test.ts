// Results as resources: the API and the form keep each analysis under an id; its page, pictures
// and downloads have their own URLs; results expire (clock injected) unless a folder keeps them.
// Also the pooled model, served as "any magnification".
import { expect } from 'chai';
import * as fs from 'node:fs';

import { type Magnification } from '../../src/data';
import { type Prediction, ModelRegistry } from '../../src/infer';
import { type StoredResult, ResultStore } from '../../src/web/result-store';
import { breakhisName, installModel, tissuePng, tmpDir } from '../infer/model-fixture';
import { listen, multipart, type Running } from './http-helpers';

interface Answer {
  id: string;
  url: string;
  probability: number;
  warnings: { code: string; message: string }[];
  links: { json: string; csv: string };
  gradcam: { overlayUrl: string; overlayPng: string };
}

function fakeResult(store: ResultStore, bytes = 10): StoredResult {
  const prediction: Prediction = {
    magnification: '40X', probabilities: { benign: 0.3, malignant: 0.7 }, label: 'malignant', classIndex: 1, threshold: 0.5, modelId: 'm', demo: false,
  };
  return {
    record: { id: store.newId(), createdAt: 0, fileName: 'a.png', sha256: 'ab', magnification: '40X', prediction, warnings: [], gradcam: null },
    pictures: { overlay: Buffer.alloc(bytes, 1) },
  };
}

describe('result store', () => {
  it('forgets results after their time-to-live', async () => {
    let now = 1_000;
    const store = new ResultStore({ ttlMs: 60_000, now: () => now });
    const kept = fakeResult(store);
    await store.put(kept);
    now += 59_000;
    expect((await store.get(kept.record.id))?.record.id).to.equal(kept.record.id);
    now += 2_000;
    expect(await store.get(kept.record.id)).to.equal(undefined);
    expect(store.size).to.deep.equal({ entries: 0, bytes: 0 });
  });

  it('stays within its entry and byte bounds, dropping the oldest first', async () => {
    const store = new ResultStore({ maxEntries: 2, maxBytes: 25 });
    const [a, b, c] = [fakeResult(store, 10), fakeResult(store, 10), fakeResult(store, 10)];
    for (const r of [a, b, c]) await store.put(r);
    expect(await store.get(a.record.id)).to.equal(undefined);
    expect(await store.get(c.record.id)).not.to.equal(undefined);
    const big = fakeResult(store, 20);
    await store.put(big);
    expect(store.size.bytes).to.be.at.most(25);
    expect(await store.get(b.record.id)).to.equal(undefined);
  });

  it('keeps results in an opt-in folder, atomically written, after memory forgot them', async () => {
    let now = 0;
    const dir = tmpDir('results-folder');
    const store = new ResultStore({ ttlMs: 1000, dir, now: () => now });
    const kept = fakeResult(store);
    await store.put(kept);
    expect(fs.readdirSync(dir).sort()).to.deep.equal([`${kept.record.id}.json`, `${kept.record.id}.overlay.png`]);
    now += 5000;
    const back = await store.get(kept.record.id);
    expect(back?.record).to.deep.equal(kept.record);
    expect(back?.pictures.overlay?.equals(kept.pictures.overlay!)).to.equal(true);
    // A later server on the same folder finds it too; ids that are not ids never reach the disk.
    expect(await new ResultStore({ dir }).get(kept.record.id)).not.to.equal(undefined);
    expect(await new ResultStore({ dir }).get('../../etc/passwd')).to.equal(undefined);
  });

  it('refuses bounds that cannot work, naming them', () => {
    expect(() => new ResultStore({ ttlMs: 0 })).to.throw(/^Expected a positive number for the result store's ttlMs but received 0\.$/);
  });
});

describe('results over HTTP', () => {
  let registry: ModelRegistry;
  let server: Running;
  let now = Date.now();

  before(async () => {
    const modelsDir = tmpDir('results-models');
    await installModel(modelsDir, '40X', { demo: true });
    await installModel(modelsDir, 'pooled' as Magnification, { threshold: 0.7 });
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry, results: { ttlMs: 10 * 60_000, now: () => now } });
  });
  after(async () => {
    await server.close();
    registry.dispose();
  });

  it('answers the API with an id whose page, pictures, JSON and CSV stay reachable until they expire', async () => {
    const image = await tissuePng(80, 50, 4);
    const name = breakhisName('40X', 3);
    const form = multipart([{ name: 'gradcam', value: '1' }, { name: 'image', file: { name, type: 'image/png', data: image } }]);
    const res = await fetch(`${server.url}/api/predict`, { method: 'POST', body: form.body, headers: { 'content-type': form.type } });
    expect(res.status).to.equal(200);
    const answer = await res.json() as Answer;
    expect(answer.id).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(answer.url).to.equal(`/results/${answer.id}`);
    expect(answer.warnings.map((w) => w.code)).to.deep.equal(['tiny']); // an 80×50 test tile; warned, still answered
    expect(answer.gradcam.overlayUrl).to.equal(`/results/${answer.id}/overlay.png`);

    const page = await fetch(`${server.url}${answer.url}`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include(name).and.include(`/results/${answer.id}/result.csv`).and.include(`/results/${answer.id}/overlay.png`);
    expect(html).not.to.include('src=""'); // the API keeps no copy of the image: the page shows the overlay alone

    const overlay = await fetch(`${server.url}${answer.gradcam.overlayUrl}`);
    expect(overlay.status).to.equal(200);
    expect(overlay.headers.get('content-type')).to.equal('image/png');
    expect(overlay.headers.get('cache-control')).to.equal('private, max-age=600, immutable');
    expect(Buffer.from(await overlay.arrayBuffer()).equals(Buffer.from(answer.gradcam.overlayPng, 'base64'))).to.equal(true);
    const download = await fetch(`${server.url}${answer.gradcam.overlayUrl}?download`);
    expect(download.headers.get('content-disposition')).to.equal(`attachment; filename="${name.replace('.png', '')}.overlay.png"`);

    const json = await (await fetch(`${server.url}${answer.links.json}`)).json() as Answer & { sha256: string };
    expect(json).to.include({ id: answer.id, fileName: name, magnification: '40X', modelId: '40X-fixture-32', threshold: 0.5, demo: true });
    expect(json.sha256).to.equal((await import('node:crypto')).createHash('sha256').update(image).digest('hex'));
    expect(json.probability).to.equal(answer.probability);
    const csv = await (await fetch(`${server.url}${answer.links.csv}`)).text();
    const [header, row] = csv.trim().split('\n');
    expect(header).to.equal('file_name,sha256,magnification,model_id,threshold,probability_malignant,label,warnings,demo,created_at,result_url,precision');
    expect(row.split(',').slice(0, 5)).to.deep.equal([name, json.sha256, '40X', '40X-fixture-32', '0.5']);
    expect(row).to.include(',true,').and.include('too small to show tissue');
    expect(row.endsWith(',fp32')).to.equal(true);
    const many = await (await fetch(`${server.url}/results.csv?ids=${answer.id},${answer.id}`)).text();
    expect(many.trim().split('\n')).to.have.length(3);

    now += 11 * 60_000; // past the time-to-live
    const gone = await fetch(`${server.url}${answer.url}`);
    expect(gone.status).to.equal(404);
    expect(await gone.text()).to.match(/does not exist or has expired: results are kept for 10 minutes/);
    expect((await fetch(`${server.url}${answer.gradcam.overlayUrl}`)).status).to.equal(404);
  });

  it('explains the other class on request, as a new result with the same verdict', async () => {
    const form = multipart([{ name: 'mag', value: '40X' }, { name: 'image', file: { name: 'tile.png', type: 'image/png', data: await tissuePng(64, 48, 5) } }]);
    const posted = await fetch(`${server.url}/`, { method: 'POST', body: form.body, headers: { 'content-type': form.type }, redirect: 'manual' });
    const first = posted.headers.get('location')!.replace('#result', '');
    const html = await (await fetch(`${server.url}${first}`)).text();
    const explained = /id="explained">(benign|malignant)</.exec(html)![1];
    const other = explained === 'malignant' ? 'benign' : 'malignant';
    const again = await fetch(`${server.url}${first}/explain?class=${other}`, { method: 'POST', redirect: 'manual' });
    expect(again.status).to.equal(303);
    const second = await (await fetch(`${server.url}${again.headers.get('location')!}`)).text();
    expect(second).to.include(`id="explained">${other}<`);
    expect(/id="probability">([^<]+)</.exec(second)![1]).to.equal(/id="probability">([^<]+)</.exec(html)![1]);
    const bad = await fetch(`${server.url}${first}/explain?class=tumour`, { method: 'POST' });
    expect(bad.status).to.equal(400);
  });

  it('serves the pooled model as "any magnification": in the form, the API and its card', async () => {
    const models = await (await fetch(`${server.url}/api/models`)).json() as { models: { magnification: string; installed: boolean }[] };
    expect(models.models.map((m) => m.magnification)).to.deep.equal(['40X', '100X', '200X', '400X', 'pooled']);
    const html = await (await fetch(`${server.url}/`)).text();
    expect(html).to.match(/<option value="pooled"\s*>Any magnification \(pooled model\)<\/option>/);
    // A 400X file, for which no 400X model is installed, goes to the pooled model: its name does not conflict.
    const res = await fetch(`${server.url}/api/predict?mag=any`, { method: 'POST', body: await tissuePng(70, 40, 2), headers: { 'content-type': 'image/png' } });
    expect(res.status).to.equal(200);
    const answer = await res.json() as Record<string, unknown>;
    expect(answer).to.include({ magnification: 'pooled', modelId: 'pooled-fixture-32', threshold: 0.7 });
    const form = multipart([{ name: 'mag', value: 'pooled' }, { name: 'image', file: { name: breakhisName('400X'), type: 'image/png', data: await tissuePng(70, 40, 2) } }]);
    expect((await fetch(`${server.url}/api/predict`, { method: 'POST', body: form.body, headers: { 'content-type': form.type } })).status).to.equal(200);
    const card = await fetch(`${server.url}/models/pooled`);
    expect(card.status).to.equal(200);
    expect(await card.text()).to.include('Pooled (any magnification) model card').and.include('aria-current="page"');
  });
});
