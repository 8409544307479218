import { expect } from 'chai';

import { ModelRegistry } from '../../src/infer';
import { concatUpload, uploadBuffer } from '../../src/web/upload-memory';
import { AbandonedError, WorkQueue } from '../../src/web/work-queue';
import { installModel, tissuePng, tmpDir } from '../infer/model-fixture';
import { eventually, health, listen, multipart, postImage, rawExchange, type Running, stalledUpload } from './http-helpers';

const head = (length: number | 'chunked', extra = '', type = 'image/png'): string =>
  `POST /api/predict?mag=40X HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n` +
  `${length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`}\r\n${extra}\r\n`;

/** The JSON error of a raw reply. */
const errorOf = (reply: string): string => String((JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4) || '{}') as { error?: string }).error);

describe('uploads: admission before the body, in-flight byte budget, graceful refusals', () => {
  // No model is needed: every request here is refused or stalled before any analysis.
  let server: Running;
  let registry: ModelRegistry;

  before(async () => {
    registry = new ModelRegistry({ modelsDir: tmpDir('admission-models') });
    server = await listen({ registry, concurrency: 1, maxWaiting: 1, maxUploadBytes: 256 * 1024, maxUploadBytesInFlight: 400 * 1024 });
  });
  after(async () => {
    await server.close();
    registry.dispose();
  });

  it('answers 429 with Retry-After at once when the queue is full, without reading the body', async () => {
    // Two stalled uploads hold both places (1 running + 1 waiting) while their bodies are read.
    const held = [await stalledUpload(server.url, head(100_000), Buffer.alloc(1000)), await stalledUpload(server.url, head(100_000), Buffer.alloc(1000))];
    try {
      expect(await eventually(async () => (await health(server.url)).queue.uploading === 2)).to.equal(true);
      // Expect: 100-continue: the answer comes instead of "100 Continue", so the body is never sent.
      const withExpect = await rawExchange(server.url, head(200_000, 'Expect: 100-continue\r\n'), Buffer.alloc(200_000, 7), 3000);
      expect(withExpect.reply).to.match(/^HTTP\/1\.1 429 /);
      expect(withExpect.reply).to.match(/\r\nretry-after: \d+\r\n/i).and.match(/\r\nconnection: close\r\n/i);
      expect(withExpect.reply).not.to.match(/100 Continue/);
      expect(errorOf(withExpect.reply)).to.match(/^The server is busy analysing other images\. Try again in about \d+ seconds?\.$/);
      // Without Expect: the 429 arrives although the client keeps sending, and the connection closes cleanly.
      const without = await rawExchange(server.url, head(200_000), Buffer.alloc(200_000, 7), 3000);
      expect(without.error).to.equal(undefined);
      expect(without.reply).to.match(/^HTTP\/1\.1 429 /);
    } finally {
      held.forEach((s) => s.destroy());
    }
    expect(await eventually(async () => (await health(server.url)).queue.uploading === 0)).to.equal(true);
  });

  it('bounds the bytes of uploads in flight: one that would exceed the budget gets 429, declared or not', async () => {
    const big = await stalledUpload(server.url, head(250_000), Buffer.alloc(10_000));
    try {
      expect(await eventually(async () => (await health(server.url)).uploads.bytesInFlight === 250_000)).to.equal(true);
      // Declared: refused from the headers.
      const declared = await rawExchange(server.url, head(200_000), Buffer.alloc(200_000, 1), 3000);
      expect(declared.reply).to.match(/^HTTP\/1\.1 429 /).and.match(/\r\nretry-after: \d+\r\n/i);
      expect(errorOf(declared.reply)).to.match(/too many large uploads at once\. Try again in about \d+ seconds?\.$/);
      // Chunked (no length): refused when its bytes reach the budget.
      const body = Buffer.concat([Buffer.from(`30000\r\n`), Buffer.alloc(0x30000, 2), Buffer.from('\r\n0\r\n\r\n')]);
      const chunked = await rawExchange(server.url, head('chunked'), body, 3000);
      expect(chunked.error).to.equal(undefined);
      expect(chunked.reply).to.match(/^HTTP\/1\.1 429 /);
    } finally {
      big.destroy();
    }
    // The budget is given back when the upload ends, however it ends.
    expect(await eventually(async () => (await health(server.url)).uploads.bytesInFlight === 0)).to.equal(true);
  });

  describe('an over-cap upload always gets the 413 message, never a reset', () => {
    const over = Buffer.alloc(32 * 1024 * 1024, 9);
    const expect413 = (x: { reply: string; error?: string }): void => {
      expect(x.error, x.reply.slice(0, 200)).to.equal(undefined);
      expect(x.reply).to.match(/^HTTP\/1\.1 413 /);
      expect(errorOf(x.reply)).to.equal("The upload is larger than this server's limit of 0.3 MB. Send a smaller image (BreakHis images are under 1 MB).");
    };

    it('raw body, declared too large, with and without Expect: 100-continue', async () => {
      for (let i = 0; i < 5; i++) {
        const withExpect = await rawExchange(server.url, head(over.length, 'Expect: 100-continue\r\n'), over);
        expect413(withExpect);
        expect(withExpect.reply).not.to.match(/100 Continue/);
        expect(withExpect.reply).to.match(/\r\nconnection: close\r\n/i); // no body was sent: closing is clean
        expect413(await rawExchange(server.url, head(over.length), over));
      }
    });

    it('chunked raw body and multipart file, found too large while reading', async () => {
      const chunked = Buffer.concat([Buffer.from(`${over.length.toString(16)}\r\n`), over, Buffer.from('\r\n0\r\n\r\n')]);
      const form = multipart([{ name: 'mag', value: '40X' }, { name: 'image', file: { name: 'big.png', type: 'image/png', data: over } }]);
      const formHead = `POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: ${form.type}\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const formBody = Buffer.concat([Buffer.from(`${form.body.length.toString(16)}\r\n`), form.body, Buffer.from('\r\n0\r\n\r\n')]);
      for (let i = 0; i < 3; i++) {
        expect413(await rawExchange(server.url, head('chunked'), chunked));
        expect413(await rawExchange(server.url, head('chunked', 'Expect: 100-continue\r\n'), chunked));
        expect413(await rawExchange(server.url, formHead, formBody));
      }
      const after = await health(server.url);
      expect([after.queue.uploading, after.uploads.bytesInFlight]).to.deep.equal([0, 0]);
    });
  });
});

describe('upload memory', () => {
  it('holds large uploads in their own mapped memory, byte for byte, and small ones on the heap', () => {
    const chunks = [Buffer.alloc(700_000, 1), Buffer.alloc(900_000, 2), Buffer.from('end')];
    const whole = concatUpload(chunks, 1_600_003);
    expect(whole.equals(Buffer.concat(chunks))).to.equal(true);
    expect(whole.buffer.byteLength % 65536).to.equal(0); // WebAssembly pages, not the heap
    expect(uploadBuffer(100).length).to.equal(100);
  });
});

describe('work queue: abandoned requests leave the line', () => {
  it('drops waiting work whose client left, and never runs it', async () => {
    const queue = new WorkQueue({ concurrency: 1, maxWaiting: 4 });
    const ran: number[] = [];
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((r) => { release = r; }), 10_000);
    const clients = [0, 1, 2].map(() => new AbortController());
    const waiting = clients.map((c, i) => queue.run(async () => { ran.push(i); }, 10_000, c.signal));
    expect(queue.stats.waiting).to.equal(3);
    clients[0].abort();
    clients[2].abort();
    expect(queue.stats).to.include({ waiting: 1, abandoned: 2 });
    const settled = await Promise.allSettled([waiting[0], waiting[2]]);
    expect(settled.map((s) => s.status === 'rejected' && s.reason instanceof AbandonedError)).to.deep.equal([true, true]);
    release();
    await first;
    await waiting[1];
    await new Promise((r) => setImmediate(r)); // the slot is freed just after the result
    expect(ran).to.deep.equal([1]);
    expect(queue.stats).to.include({ running: 0, waiting: 0, started: 2 });
  });

  it('counts places held by uploads, refuses beyond them, and gives them back', () => {
    const queue = new WorkQueue({ concurrency: 1, maxWaiting: 1 });
    const a = queue.admit();
    const b = queue.admit();
    expect(() => queue.admit()).to.throw(/busy/);
    a.release();
    a.release(); // idempotent
    const c = queue.admit();
    b.release();
    c.release();
    expect(queue.stats.uploading).to.equal(0);
  });
});

describe('JSON API: clients that leave', () => {
  it('serves the next request promptly after 12 clients queued Grad-CAM requests and disconnected', async function () {
    this.timeout(120_000);
    const modelsDir = tmpDir('abandon-models');
    await installModel(modelsDir, '40X', { imageSize: 224 });
    const registry = new ModelRegistry({ modelsDir });
    const server = await listen({ registry, concurrency: 1, maxWaiting: 16 });
    try {
      const png = await tissuePng(700, 460, 5);
      const timed = async (): Promise<number> => {
        const t = Date.now();
        expect((await postImage(`${server.url}/api/predict?mag=40X`, png, 'image/png')).status).to.equal(200);
        return Date.now() - t;
      };
      await timed(); // loads the model
      const alone = await timed();
      const before = (await health(server.url)).queue.started;
      const leaving = Array.from({ length: 12 }, () => new AbortController());
      const requests = leaving.map((c) => fetch(`${server.url}/api/predict?mag=40X&gradcam=1`, {
        method: 'POST', body: png, headers: { 'content-type': 'image/png' }, signal: c.signal,
      }).catch(() => undefined));
      expect(await eventually(async () => (await health(server.url)).queue.waiting >= 10)).to.equal(true);
      leaving.forEach((c) => c.abort());
      await Promise.all(requests);
      expect(await eventually(async () => (await health(server.url)).queue.waiting === 0)).to.equal(true);
      const next = await timed();
      const stats = (await health(server.url)).queue;
      console.log(`      alone ${alone} ms; after 12 abandoned Grad-CAM requests ${next} ms; ${stats.started - before - 1} of them ran, ${stats.abandoned} left the line`);
      expect(stats.started - before - 1).to.be.at.most(2); // at most the one(s) already running
      expect(stats.abandoned).to.be.at.least(10);
      expect(next).to.be.below(alone * 6 + 2000); // twelve Grad-CAMs in line would take over 12 × alone
    } finally {
      await server.close();
      registry.dispose();
    }
  });
});
