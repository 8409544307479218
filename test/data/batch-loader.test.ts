import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { BatchLoader, caseNumberOf, formatBreakhisName, ImageCache, type ManifestEntry } from '../../src/data';
import { tmpDir } from './helpers';

/** 10 solid-colour PNGs; image i has red = 10·i, so a batch's bytes show which image it holds. */
async function fixture(): Promise<{ root: string; entries: ManifestEntry[] }> {
  const root = tmpDir('loader');
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < 10; i++) {
    const cls = i % 3 === 0 ? 'malignant' : 'benign';
    const patient = `14-${100 + i}`;
    const name = formatBreakhisName({ cls, subtype: cls === 'benign' ? 'A' : 'DC', patient, magnification: '40X', sequence: i + 1 });
    await sharp({ create: { width: 20, height: 12, channels: 3, background: { r: 10 * i, g: 7, b: 200 } } }).png().toFile(path.join(root, name));
    entries.push({ path: name, cls, subtype: cls === 'benign' ? 'A' : 'DC', patient, caseNumber: caseNumberOf(patient), magnification: '40X', sequence: String(i + 1), width: 20, height: 12, bytes: 0, sha256: '' });
  }
  return { root, entries };
}

const redOf = (batch: { data: Buffer }, k: number, size: number): number => batch.data[k * size * size * 3];

describe('BatchLoader', () => {
  it('yields NHWC uint8 batches in order with labels, and a short last batch', async () => {
    const { root, entries } = await fixture();
    const loader = new BatchLoader(entries, root, { batchSize: 4, size: 8 });
    expect(loader.length).to.equal(3);
    const batches = [];
    for await (const b of loader) batches.push(b);
    expect(batches.map((b) => b.shape)).to.deep.equal([[4, 8, 8, 3], [4, 8, 8, 3], [2, 8, 8, 3]]);
    const reds = batches.flatMap((b) => b.entries.map((_, k) => redOf(b, k, 8)));
    expect(reds).to.deep.equal([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(batches.flatMap((b) => b.labels)).to.deep.equal(entries.map((e) => (e.cls === 'malignant' ? 1 : 0)));
    expect(batches[0].data.length).to.equal(4 * 8 * 8 * 3);
    const dropped = new BatchLoader(entries, root, { batchSize: 4, size: 8, dropLast: true });
    let n = 0;
    for await (const b of dropped) n += b.shape[0];
    expect(n).to.equal(8);
  });

  it('shuffles per epoch, deterministically for a seed, keeping data and labels together', async () => {
    const { root, entries } = await fixture();
    const orderOf = async (seed: number): Promise<string[][]> => {
      const loader = new BatchLoader(entries, root, { batchSize: 3, size: 4, shuffleSeed: seed });
      const epochs: string[][] = [];
      for (let e = 0; e < 2; e++) {
        const paths: string[] = [];
        for await (const b of loader) {
          b.entries.forEach((entry, k) => {
            expect(redOf(b, k, 4)).to.equal(10 * entries.indexOf(entry));
            expect(b.labels[k]).to.equal(entry.cls === 'malignant' ? 1 : 0);
          });
          paths.push(...b.entries.map((x) => x.path));
        }
        epochs.push(paths);
      }
      return epochs;
    };
    const a = await orderOf(5);
    expect(a[0].slice().sort()).to.deep.equal(entries.map((e) => e.path).sort());
    expect(a[0]).to.not.deep.equal(a[1]);
    expect(await orderOf(5)).to.deep.equal(a);
    expect((await orderOf(6))[0]).to.not.deep.equal(a[0]);
  });

  it('prefetches ahead of a slow consumer', async () => {
    const { root, entries } = await fixture();
    const loader = new BatchLoader(entries, root, { batchSize: 2, size: 4, prefetch: 2 });
    const it = loader[Symbol.asyncIterator]();
    await it.next();
    // Consumer holds batch 1; batches 2 and 3 are already decoding, batch 4 is not.
    expect(loader.stats.batchesStarted).to.equal(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(loader.stats.imagesDecoded).to.equal(6);
    const none = new BatchLoader(entries, root, { batchSize: 2, size: 4, prefetch: 0 });
    const it0 = none[Symbol.asyncIterator]();
    await it0.next();
    expect(none.stats.batchesStarted).to.equal(1);
  });

  it('decodes as many images at once as asked, and no more; one per core by default', async () => {
    const { root, entries } = await fixture();
    for (const concurrency of [1, 3]) {
      const loader = new BatchLoader(entries, root, { batchSize: 10, size: 4, concurrency });
      for await (const batch of loader.epoch(0)) expect(batch.entries).to.have.length(10);
      expect(loader.stats.peakConcurrentDecodes, `concurrency ${concurrency}`).to.equal(concurrency);
    }
    const byDefault = new BatchLoader(entries, root, { batchSize: 10, size: 4 });
    for await (const batch of byDefault.epoch(0)) expect(batch.entries).to.have.length(10);
    expect(byDefault.stats.peakConcurrentDecodes).to.equal(Math.min(10, os.availableParallelism()));
  });

  it('serves later epochs from the cache and respects its byte bound', async () => {
    const { root, entries } = await fixture();
    const loader = new BatchLoader(entries, root, { batchSize: 4, size: 4, cache: 1 << 20 });
    for await (const _ of loader) void _;
    for await (const _ of loader) void _;
    expect(loader.stats.imagesDecoded).to.equal(10);
    expect(loader.cache!.hits).to.equal(10);
    const small = new ImageCache(4 * 4 * 3 * 3);
    const bounded = new BatchLoader(entries, root, { batchSize: 4, size: 4, cache: small });
    for await (const _ of bounded) void _;
    expect(small.size).to.equal(3);
    expect(small.usedBytes).to.be.at.most(small.maxBytes);
  });

  it('fails naming the broken file, and validates options', async () => {
    const { root, entries } = await fixture();
    fs.writeFileSync(path.join(root, entries[5].path), 'broken');
    const loader = new BatchLoader(entries, root, { batchSize: 4, size: 4 });
    let message = '';
    try {
      for await (const _ of loader) void _;
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.contain(entries[5].path).and.match(/not an image sharp can read/);
    expect(() => new BatchLoader(entries, root, { batchSize: 0 })).to.throw(/Expected positive integer for batchSize but received 0/);
  });
});
