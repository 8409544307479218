import { expect } from 'chai';
import * as net from 'node:net';
import sharp from 'sharp';

import { ModelRegistry } from '../../src/infer';
import { renderSyntheticPng, syntheticPatients } from '../../src/data';
import { screenshotPng } from '../helpers/ood-images';
import { breakhisName, installModel, tissuePng, tmpDir } from '../infer/model-fixture';
import { listen, multipart, pngDeclaring, postImage, type Running } from './http-helpers';

describe('JSON API', () => {
  let registry: ModelRegistry;
  let server: Running;
  let good: Buffer;

  before(async () => {
    const modelsDir = tmpDir('api-models');
    await installModel(modelsDir, '100X', { demo: true });
    await installModel(modelsDir, '200X');
    registry = new ModelRegistry({ modelsDir });
    server = await listen({ registry, maxUploadBytes: 2 * 1024 * 1024 });
    good = await tissuePng(140, 92, 2);
  });
  after(async () => {
    await server.close();
    registry.dispose();
  });

  async function expectGoodRequestWorks(): Promise<void> {
    const r = await postImage(`${server.url}/api/predict?mag=200X`, good, 'image/png');
    expect(r.status).to.equal(200);
    expect(r.json.label).to.be.oneOf(['benign', 'malignant']);
  }

  it('predicts from a multipart upload, with the Grad-CAM overlay as base64 PNG on request', async () => {
    const form = multipart([{ name: 'mag', value: '200X' }, { name: 'gradcam', value: '1' }, { name: 'image', file: { name: 'slide.png', type: 'image/png', data: good } }]);
    const r = await postImage(`${server.url}/api/predict`, form.body, form.type);
    expect(r.status).to.equal(200);
    expect(r.json).to.include({ magnification: '200X', threshold: 0.5, modelId: '200X-fixture-32', demo: false });
    expect(r.json).not.to.have.property('warning');
    const probs = r.json.probabilities as { benign: number; malignant: number };
    expect(probs.benign + probs.malignant).to.be.closeTo(1, 1e-5);
    expect(r.json.probability).to.equal(probs.malignant);
    expect(r.json.label).to.equal(probs.malignant >= 0.5 ? 'malignant' : 'benign');
    const overlay = Buffer.from((r.json.gradcam as { overlayPng: string }).overlayPng, 'base64');
    const meta = await sharp(overlay).metadata();
    expect([meta.format, meta.width, meta.height]).to.deep.equal(['png', 140, 92]);
  });

  it('predicts from a raw body, reads the magnification from a BreakHis name, and flags demo models', async () => {
    const raw = await postImage(`${server.url}/api/predict?mag=100`, good, 'image/png');
    expect(raw.status).to.equal(200);
    expect(raw.json).to.include({ magnification: '100X', demo: true });
    expect(raw.json.warning).to.match(/synthetic images.*must not be used on patients/);
    expect(raw.json).not.to.have.property('gradcam');
    const named = multipart([{ name: 'image', file: { name: breakhisName('100X', 3), type: 'image/png', data: good } }]);
    const byName = await postImage(`${server.url}/api/predict`, named.body, named.type);
    expect(byName.status).to.equal(200);
    expect(byName.json.magnification).to.equal('100X');
  });

  it('answers with out-of-distribution warnings and the chosen explanation method', async () => {
    const shot = multipart([{ name: 'mag', value: '200X' }, { name: 'gradcam', value: '1' }, { name: 'method', value: 'gradcam++' },
      { name: 'image', file: { name: 'screen.png', type: 'image/png', data: await screenshotPng() } }]);
    const r = await postImage(`${server.url}/api/predict`, shot.body, shot.type);
    expect(r.status).to.equal(200);
    const warnings = r.json.warnings as { code: string; message: string }[];
    expect(warnings.map((w) => w.code)).to.deep.equal(['size', 'not-he', 'uniform']);
    expect(warnings[0].message).to.match(/1280×1150 pixels; the 200X model was trained on 700×460 images/);
    expect((r.json.gradcam as { method: string }).method).to.equal('gradcam++');
    // In a query "++" arrives as two spaces: still Grad-CAM++, never silently plain Grad-CAM.
    const tile = await renderSyntheticPng(syntheticPatients(2, 4)[0], '100X', 1, 700, 460, 4);
    const q = await postImage(`${server.url}/api/predict?mag=200X&gradcam=1&method=gradcam++`, tile, 'image/png');
    expect(q.json.warnings).to.deep.equal([]);
    expect((q.json.gradcam as { method: string }).method).to.equal('gradcam++');
    const plain = await postImage(`${server.url}/api/predict?mag=200X&gradcam=1`, tile, 'image/png');
    expect((plain.json.gradcam as { method: string }).method).to.equal('gradcam');
    const tiny = await postImage(`${server.url}/api/predict?mag=200X`, await tissuePng(16, 10, 1), 'image/png');
    expect(tiny.status).to.equal(200);
    expect((tiny.json.warnings as { code: string }[]).map((w) => w.code)).to.deep.equal(['tiny']);
    const unknown = await postImage(`${server.url}/api/predict?mag=200X&method=scorecam`, tile, 'image/png');
    expect(unknown.status).to.equal(400);
    expect(unknown.json.error).to.match(/Unknown explanation method "scorecam"\. Choose gradcam or gradcam\+\+/);
  });

  it('lists installed models with their test metrics, and reports health', async () => {
    const models = (await (await fetch(`${server.url}/api/models`)).json()) as { models: Record<string, unknown>[] };
    expect(models.models.map((m) => [m.magnification, m.installed])).to.deep.equal([['40X', false], ['100X', true], ['200X', true], ['400X', false]]);
    const m200 = models.models[2] as { test: Record<string, unknown>; demo: boolean };
    expect(m200.demo).to.equal(false);
    expect(m200.test).to.include.keys('accuracy', 'weightedF1', 'patientLevel', 'confusionMatrix', 'images');
    // The fixture's test set has 8 patients: a Wilson interval, said in words.
    expect(m200.test.patientLevel).to.include({ method: 'wilson' });
    expect((m200.test.patientLevel as { interval: string }).interval).to.match(/^95% Wilson score interval over 8 patients/);
    expect(m200.test.images).to.equal(40);
    expect(models.models[0].message).to.match(/histoscope train/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).to.equal(200);
    const body = (await health.json()) as { status: string; models: Record<string, string> };
    expect(body.status).to.equal('ok');
    expect(body.models['400X']).to.equal('missing');
  });

  describe('bad input: a 4xx with a sentence, and the server keeps serving', () => {
    const cases: { name: string; status: number; message: RegExp; send: () => Promise<{ status: number; json: Record<string, unknown> }> }[] = [
      { name: 'zero-byte file', status: 400, message: /empty/, send: () => { const f = multipart([{ name: 'mag', value: '200X' }, { name: 'image', file: { name: 'a.png', type: 'image/png', data: Buffer.alloc(0) } }]); return postImage(`${server.url}/api/predict`, f.body, f.type); } },
      { name: 'truncated PNG', status: 422, message: /damaged or incomplete/, send: async () => postImage(`${server.url}/api/predict?mag=200X`, good.subarray(0, Math.floor(good.length / 2)), 'image/png') },
      { name: 'text file named .png', status: 415, message: /text file.*not its name/, send: () => { const f = multipart([{ name: 'mag', value: '200X' }, { name: 'image', file: { name: 'scan.png', type: 'image/png', data: Buffer.from('just some notes\n') } }]); return postImage(`${server.url}/api/predict`, f.body, f.type); } },
      { name: 'PNG declaring 30000×30000 pixels', status: 413, message: /30000 × 30000 pixels/, send: () => postImage(`${server.url}/api/predict?mag=200X`, pngDeclaring(30000, 30000), 'image/png') },
      { name: 'oversized body', status: 413, message: /larger than this server's limit of 2 MB/, send: () => postImage(`${server.url}/api/predict?mag=200X`, Buffer.alloc(3 * 1024 * 1024, 1), 'image/png') },
      { name: 'oversized multipart file', status: 413, message: /larger than/, send: () => { const f = multipart([{ name: 'mag', value: '200X' }, { name: 'image', file: { name: 'a.png', type: 'image/png', data: Buffer.alloc(3 * 1024 * 1024, 1) } }]); return postImage(`${server.url}/api/predict`, f.body, f.type); } },
      { name: 'unknown magnification', status: 400, message: /Unknown magnification "150X"/, send: () => postImage(`${server.url}/api/predict?mag=150X`, good, 'image/png') },
      { name: 'missing image field', status: 400, message: /No image was uploaded/, send: () => { const f = multipart([{ name: 'mag', value: '200X' }, { name: 'picture', file: { name: 'a.png', type: 'image/png', data: good } }]); return postImage(`${server.url}/api/predict`, f.body, f.type); } },
      { name: 'missing magnification', status: 400, message: /magnification is unknown/, send: () => postImage(`${server.url}/api/predict`, good, 'image/png') },
      { name: 'magnification contradicting the BreakHis name', status: 400, message: /file name says 100X but 200X/, send: () => { const f = multipart([{ name: 'mag', value: '200X' }, { name: 'image', file: { name: breakhisName('100X'), type: 'image/png', data: good } }]); return postImage(`${server.url}/api/predict`, f.body, f.type); } },
      { name: 'magnification without a model', status: 404, message: /No model is installed for 400X.*histoscope train/, send: () => postImage(`${server.url}/api/predict?mag=400X`, good, 'image/png') },
      { name: 'JSON instead of an image', status: 415, message: /multipart form field named "image"/, send: () => postImage(`${server.url}/api/predict?mag=200X`, Buffer.from('{"image":"x"}'), 'application/json') },
      { name: 'GIF (a real image, not accepted)', status: 415, message: /GIF image/, send: () => postImage(`${server.url}/api/predict?mag=200X`, Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'image/gif') },
      { name: 'malformed multipart', status: 400, message: /form could not be read/, send: () => postImage(`${server.url}/api/predict?mag=200X`, Buffer.from('--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n\x89PNG'), 'multipart/form-data; boundary=xyz') },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const r = await c.send();
        expect(r.status, JSON.stringify(r.json)).to.equal(c.status);
        const message = String(r.json.error);
        expect(message).to.match(c.message);
        expect(message).to.match(/^[A-Z].*\.$/); // a sentence
        expect(message).not.to.match(/\/tmp\/|\/work\/|node_modules|\bat \w+ \(|Error:/);
        await expectGoodRequestWorks();
      });
    }
  });

  it('never leaks a path or stack trace, even for an unknown route', async () => {
    const r = await fetch(`${server.url}/api/nothing/here`);
    expect(r.status).to.equal(404);
    expect(await r.text()).not.to.match(/\/tmp\/|\/work\/|at \w+ \(/);
  });

  it('sets security headers with a strict content security policy', async () => {
    const r = await fetch(`${server.url}/api/models`);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).to.include("default-src 'none'").and.include("script-src 'self'").and.include("frame-ancestors 'none'");
    expect(csp).not.to.include('unsafe-inline');
    expect(r.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(r.headers.get('x-powered-by')).to.equal(null);
  });
});

describe('JSON API timeouts', () => {
  it('answers a client that stops sending mid-upload with 408 instead of waiting forever', async () => {
    const modelsDir = tmpDir('timeout-models');
    await installModel(modelsDir, '40X');
    const registry = new ModelRegistry({ modelsDir });
    const server = await listen({ registry, requestTimeoutMs: 400 });
    try {
      const { port, hostname } = new URL(server.url);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
          socket.write('POST /api/predict?mag=40X HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n');
          socket.write(Buffer.alloc(1000)); // then silence
        });
        let data = '';
        socket.on('data', (d) => { data += d.toString(); });
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        setTimeout(() => { socket.destroy(); reject(new Error('no answer within 5 s')); }, 5000);
      });
      expect(reply).to.match(/^HTTP\/1\.1 408/);
      expect(reply).to.match(/The upload did not arrive within 1 second\. Check the connection/);
    } finally {
      await server.close();
      registry.dispose();
    }
  });
});

describe('JSON API under load', () => {
  it('answers 50 concurrent requests, each with 200 or 429 (with Retry-After), none hanging', async function () {
    this.timeout(120_000);
    const modelsDir = tmpDir('load-models');
    await installModel(modelsDir, '40X');
    const registry = new ModelRegistry({ modelsDir });
    const server = await listen({ registry, concurrency: 1, maxWaiting: 8, requestTimeoutMs: 60_000 });
    try {
      const png = await tissuePng(64, 48, 4);
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => postImage(`${server.url}/api/predict?mag=40X${i % 3 === 0 ? '&gradcam=1' : ''}`, png, 'image/png')));
      const statuses = results.map((r) => r.status);
      console.log(`      50 concurrent: ${statuses.filter((s) => s === 200).length} × 200, ${statuses.filter((s) => s === 429).length} × 429 in ${Date.now() - started} ms`);
      expect(statuses.every((s) => s === 200 || s === 429), statuses.join(',')).to.equal(true);
      expect(statuses.filter((s) => s === 200).length).to.be.at.least(9);
      expect(statuses.filter((s) => s === 429).length).to.be.at.least(1);
      for (const r of results.filter((x) => x.status === 429)) {
        expect(Number(r.headers.get('retry-after'))).to.be.at.least(1);
        expect(String(r.json.error)).to.match(/busy/);
      }
      const after = await postImage(`${server.url}/api/predict?mag=40X`, png, 'image/png');
      expect(after.status).to.equal(200);
    } finally {
      await server.close();
      registry.dispose();
    }
  });
});
