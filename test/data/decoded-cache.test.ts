import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { registerDataCommands } from '../../src/cli/data-commands';
import {
  BatchLoader, caseNumberOf, DECODE_CACHE_ENV, DecodedCache, decodedCacheDir, decodeImage, formatBreakhisName, indexDataset, type ManifestEntry,
  manifestHash, type ResizeFit, sharedDecodedCache, writeManifest,
} from '../../src/data';
import { deadPid } from '../helpers/dead-pid';
import { runCommands } from '../helpers/run-cli';
import { tmpDir } from './helpers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `n` PNGs named like BreakHis files; image i is a solid colour with red = 20·i. */
async function images(n: number, w = 20, h = 12): Promise<{ root: string; files: string[]; entries: ManifestEntry[] }> {
  const root = tmpDir('dcache-img');
  const entries: ManifestEntry[] = [];
  for (let i = 0; i < n; i++) {
    const patient = `14-${100 + i}`;
    const name = formatBreakhisName({ cls: 'benign', subtype: 'A', patient, magnification: '40X', sequence: i + 1 });
    await sharp({ create: { width: w, height: h, channels: 3, background: { r: 20 * i, g: 90, b: 200 - 10 * i } } }).png().toFile(path.join(root, name));
    entries.push({ path: name, cls: 'benign', subtype: 'A', patient, caseNumber: caseNumberOf(patient), magnification: '40X', sequence: String(i + 1), width: w, height: h, bytes: 0, sha256: '' });
  }
  return { root, files: entries.map((e) => path.join(root, e.path)), entries };
}

/** A decoder that counts its calls; `calls.n` is the number of real decodes. */
function counting(size: number, fit: ResizeFit = 'fill'): { decode: (input: string | Buffer) => Promise<Buffer>; calls: { n: number } } {
  const calls = { n: 0 };
  return { calls, decode: async (input) => { calls.n++; return (await decodeImage(input, { size, fit })).data; } };
}

const never = async (): Promise<Buffer> => { throw new Error('decoded although it should have been a hit'); };

describe('DecodedCache (persistent decoded-image cache)', () => {
  it('misses once, then hits in the same and in a new instance; size and fit are part of the key', async () => {
    const { files } = await images(3);
    const dir = path.join(tmpDir('dcache'), 'decoded');
    const a = new DecodedCache({ dir, flushMs: 5 });
    const c8 = counting(8);
    const first = await Promise.all(files.map((f) => a.getOrDecode(f, { size: 8, fit: 'fill' }, c8.decode)));
    expect(c8.calls.n).to.equal(3);
    expect(a.stats).to.include({ misses: 3, hits: 0 });
    const again = await Promise.all(files.map((f) => a.getOrDecode(f, { size: 8, fit: 'fill' }, never)));
    expect(again).to.deep.equal(first);
    expect(a.stats.hits).to.equal(3);
    await a.close();

    const b = new DecodedCache({ dir });
    for (const [i, f] of files.entries()) {
      const px = await b.getOrDecode(f, { size: 8, fit: 'fill' }, never);
      expect(px.equals((await decodeImage(f, { size: 8 })).data)).to.equal(true);
      expect(px[0]).to.equal(20 * i);
    }
    const c6 = counting(6);
    await b.getOrDecode(files[0], { size: 6, fit: 'fill' }, c6.decode);
    const cover = counting(8, 'cover');
    await b.getOrDecode(files[0], { size: 8, fit: 'cover' }, cover.decode);
    expect([c6.calls.n, cover.calls.n]).to.deep.equal([1, 1]);
    expect(b.stats).to.include({ hits: 3, misses: 2 });
    await b.close();
  });

  it('treats a changed file as a miss and serves its new pixels', async () => {
    const { files } = await images(1);
    const dir = tmpDir('dcache-inval');
    const cache = new DecodedCache({ dir, flushMs: 5 });
    const c = counting(8);
    const old = await cache.getOrDecode(files[0], { size: 8, fit: 'fill' }, c.decode);
    expect(old[0]).to.equal(0);
    // Same dimensions and name, other content.
    await sharp({ create: { width: 20, height: 12, channels: 3, background: { r: 250, g: 1, b: 2 } } }).png().toFile(files[0]);
    const now = await cache.getOrDecode(files[0], { size: 8, fit: 'fill' }, c.decode);
    expect(c.calls.n).to.equal(2);
    expect(now[0]).to.equal(250);
    await cache.close();
    const fresh = new DecodedCache({ dir });
    expect((await fresh.getOrDecode(files[0], { size: 8, fit: 'fill' }, never))[0]).to.equal(250);
    await fresh.close();
  });

  it('does not read an unchanged file again in a later process, and does after it changes', async function () {
    this.timeout(20_000);
    const { files } = await images(3);
    // A stamp is trusted only for files left alone for 2 s (a rewrite within one tick keeps it).
    await sleep(2100);
    const dir = tmpDir('dcache-stamps');
    const a = new DecodedCache({ dir, flushMs: 5 });
    for (const f of files) await a.getOrDecode(f, { size: 8, fit: 'fill' }, counting(8).decode);
    expect(a.stats.filesHashed).to.equal(3);
    await a.close();
    const b = new DecodedCache({ dir, flushMs: 5 });
    for (const f of files) await b.getOrDecode(f, { size: 8, fit: 'fill' }, never);
    expect(b.stats).to.include({ filesHashed: 0, hits: 3 });
    await sharp({ create: { width: 20, height: 12, channels: 3, background: { r: 5, g: 6, b: 7 } } }).png().toFile(files[1]);
    const c = counting(8);
    expect((await b.getOrDecode(files[1], { size: 8, fit: 'fill' }, c.decode))[0]).to.equal(5);
    expect([b.stats.filesHashed, c.calls.n]).to.deep.equal([1, 1]);
    await b.close();
  });

  it('never returns a damaged record: a flipped byte is a miss and the image is decoded again', async () => {
    const { files } = await images(2);
    const dir = tmpDir('dcache-torn');
    const a = new DecodedCache({ dir });
    const c = counting(8);
    for (const f of files) await a.getOrDecode(f, { size: 8, fit: 'fill' }, c.decode);
    await a.close();
    const pack = fs.readdirSync(dir).find((n) => n.endsWith('.pack'))!;
    const bytes = fs.readFileSync(path.join(dir, pack));
    bytes[48 + 5] ^= 0xff; // a pixel of the first record
    fs.writeFileSync(path.join(dir, pack), bytes);
    const b = new DecodedCache({ dir });
    const redo = counting(8);
    const px = await b.getOrDecode(files[0], { size: 8, fit: 'fill' }, redo.decode);
    expect(redo.calls.n).to.equal(1);
    expect(b.stats.corrupt).to.equal(1);
    expect(px.equals((await decodeImage(files[0], { size: 8 })).data)).to.equal(true);
    await b.getOrDecode(files[1], { size: 8, fit: 'fill' }, never);
    await b.close();
  });

  it('does not reuse pixels written by another sharp or libvips version', async () => {
    const { files } = await images(1);
    const dir = tmpDir('dcache-decoder');
    const a = new DecodedCache({ dir });
    await a.getOrDecode(files[0], { size: 8, fit: 'fill' }, counting(8).decode);
    await a.close();
    const index = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.index.json'))!);
    const json = JSON.parse(fs.readFileSync(index, 'utf8')) as { decoder: string };
    expect(json.decoder).to.equal(`sharp ${sharp.versions.sharp} vips ${sharp.versions.vips}`);
    fs.writeFileSync(index, JSON.stringify({ ...json, decoder: 'sharp 0.1.0 vips 8.0.0' }));
    const b = new DecodedCache({ dir });
    const c = counting(8);
    await b.getOrDecode(files[0], { size: 8, fit: 'fill' }, c.decode);
    expect(c.calls.n).to.equal(1);
    await b.close();
  });

  it('stays under its byte bound by evicting the least recently used shard', async () => {
    const { files } = await images(4);
    const [fa, fb, fc, fd] = files;
    const dir = tmpDir('dcache-lru');
    // shardBytes 1: every record starts its own shard, so eviction can pick images one by one.
    const writer = new DecodedCache({ dir, shardBytes: 1, flushMs: 5 });
    for (const f of [fa, fb, fc]) {
      await writer.getOrDecode(f, { size: 8, fit: 'fill' }, counting(8).decode);
      await sleep(30);
    }
    await writer.close();
    const used = await writer.usage();
    expect(used.shards).to.equal(3);
    const perShard = used.bytes / 3;
    const bound = Math.floor(3.5 * perShard);

    const cache = new DecodedCache({ dir, shardBytes: 1, maxBytes: bound, flushMs: 5 });
    await cache.getOrDecode(fa, { size: 8, fit: 'fill' }, never); // a, the oldest, is used again
    await sleep(30);
    await cache.getOrDecode(fd, { size: 8, fit: 'fill' }, counting(8).decode); // a fourth shard: over the bound
    await cache.close();
    expect((await cache.usage()).bytes).to.be.at.most(bound);

    const after = new DecodedCache({ dir });
    const decodes: Record<string, number> = {};
    for (const [name, f] of Object.entries({ a: fa, b: fb, c: fc, d: fd })) {
      const c = counting(8);
      await after.getOrDecode(f, { size: 8, fit: 'fill' }, c.decode);
      decodes[name] = c.calls.n;
    }
    // b was the least recently used: evicted; a survived because it was read.
    expect(decodes).to.deep.equal({ a: 0, b: 1, c: 0, d: 0 });
    await after.close();
  });

  it('removes what killed writers left (orphan indexes, their temp files) and keeps a live writer\'s', async () => {
    const dir = tmpDir('dcache-debris');
    const dead = path.join(dir, `.x.index.json.${deadPid()}.1.abc.tmp`);
    const live = path.join(dir, `.y.index.json.${process.pid}.1.abc.tmp`);
    const orphan = path.join(dir, 'gone.index.json');
    for (const f of [dead, live, orphan]) fs.writeFileSync(f, '{}');
    await new DecodedCache({ dir, maxBytes: 2 ** 20 }).close();
    expect([dead, live, orphan].map((f) => fs.existsSync(f))).to.deep.equal([false, true, false]);
  });

  it('lets two instances write one folder at once; a reader then sees every image intact', async () => {
    const { files } = await images(8);
    const dir = tmpDir('dcache-two');
    const x = new DecodedCache({ dir, shardBytes: 600, flushMs: 1 });
    const y = new DecodedCache({ dir, shardBytes: 600, flushMs: 1 });
    const spec = { size: 8, fit: 'fill' as const };
    await Promise.all([
      ...files.map((f) => x.getOrDecode(f, spec, counting(8).decode)),
      ...files.slice().reverse().map((f) => y.getOrDecode(f, spec, counting(8).decode)),
    ]);
    await Promise.all([x.close(), y.close()]);
    const reader = new DecodedCache({ dir });
    for (const f of files) expect((await reader.getOrDecode(f, spec, never)).equals((await decodeImage(f, spec)).data)).to.equal(true);
    await reader.close();
  });

  it('lets two processes write one folder at once; a reader then sees every image intact', async function () {
    this.timeout(60_000);
    const { root, files } = await images(12);
    const dir = tmpDir('dcache-procs');
    const run = (): Promise<{ stdout: string }> => promisify(execFile)(process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'decoded-cache-writer.ts'), dir, root, '16'], { cwd: path.resolve(__dirname, '../..') });
    const outs = await Promise.all([run(), run()]);
    const results = outs.map((o) => JSON.parse(o.stdout) as { misses: number; hits: number; failed: number });
    for (const r of results) expect(r.failed).to.equal(0);
    // Each process decodes what it did not find already published by the other.
    expect(results[0].misses + results[1].misses).to.be.within(12, 24);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.pack')).length).to.be.greaterThan(2);
    const reader = new DecodedCache({ dir });
    const spec = { size: 16, fit: 'fill' as const };
    for (const f of files) expect((await reader.getOrDecode(f, spec, never)).equals((await decodeImage(f, spec)).data)).to.equal(true);
    expect(reader.stats.corrupt).to.equal(0);
    await reader.close();
  });

  it('decodes each file once across two BatchLoaders and a new cache instance', async () => {
    const { root, entries } = await images(10);
    const dir = tmpDir('dcache-loaders');
    const cache = new DecodedCache({ dir });
    const epoch = async (loader: BatchLoader): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const b of loader) parts.push(b.data);
      return Buffer.concat(parts);
    };
    const first = new BatchLoader(entries, root, { batchSize: 4, size: 8, decodedCache: cache });
    const a = await epoch(first);
    const second = new BatchLoader(entries, root, { batchSize: 3, size: 8, decodedCache: cache });
    const b = await epoch(second);
    await cache.close();
    const third = new BatchLoader(entries, root, { batchSize: 4, size: 8, decodedCache: new DecodedCache({ dir }) });
    const c = await epoch(third);
    expect([first.stats.imagesDecoded, second.stats.imagesDecoded, third.stats.imagesDecoded]).to.deep.equal([10, 0, 0]);
    expect(b.equals(a) && c.equals(a)).to.equal(true);
  });

  it('keeps decoding when the folder cannot be written or created, with a warning', async () => {
    const { files } = await images(2);
    const dir = tmpDir('dcache-gone');
    const cache = new DecodedCache({ dir });
    fs.rmSync(dir, { recursive: true });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.message); };
    process.on('warning', onWarning);
    try {
      const c = counting(8);
      for (const f of files) expect((await cache.getOrDecode(f, { size: 8, fit: 'fill' }, c.decode)).length).to.equal(8 * 8 * 3);
      expect(c.calls.n).to.equal(2);
      const notAFolder = path.join(files[0], 'decoded');
      expect(sharedDecodedCache(notAFolder)).to.equal(undefined);
      await sleep(10);
      expect(warnings.join('\n')).to.match(/stopped writing/).and.to.match(/is unusable .* Pass --decode-cache off or a writable folder/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('resolves auto, off and folders; the tests never use ~/.cache', () => {
    expect(process.env[DECODE_CACHE_ENV], 'set by test/helpers/isolated-decode-cache.ts').to.be.a('string');
    expect(decodedCacheDir()).to.not.include(path.join(os.homedir(), '.cache'));
    expect(decodedCacheDir('auto', { HISTOSCOPE_CACHE: '/srv/hs' })).to.equal(path.resolve('/srv/hs/decoded'));
    expect(decodedCacheDir('auto', { HOME: os.homedir() })).to.equal(path.join(os.homedir(), '.cache', 'histoscope', 'decoded'));
    expect(decodedCacheDir('auto', { [DECODE_CACHE_ENV]: 'off' })).to.equal(null);
    expect(decodedCacheDir('off', { [DECODE_CACHE_ENV]: '/tmp/x' })).to.equal(null);
    expect(decodedCacheDir('rel/dir', { [DECODE_CACHE_ENV]: '/tmp/x' })).to.equal(path.resolve('rel/dir'));
    const dir = tmpDir('dcache-shared');
    expect(sharedDecodedCache(dir)).to.equal(sharedDecodedCache(dir));
    expect(sharedDecodedCache('off')).to.equal(undefined);
  });

  it('`histoscope cache DIR` warms the cache and reports hits and misses', async () => {
    const { root } = await images(5);
    const dir = tmpDir('dcache-cli');
    const run = (...args: string[]): ReturnType<typeof runCommands> => runCommands([registerDataCommands], ...args);
    const cold = await run('cache', root, '--size', '8', '--decode-cache', dir);
    expect(cold.code, cold.err).to.equal(0);
    expect(cold.out).to.match(/^5 images at 8 px \(fill\): 0 hits, 5 misses \(decoded now\), 0 failed; read 0\.0 MB, wrote 0\.0 MB/);
    const warm = await run('cache', root, '--size', '8', '--decode-cache', dir, '--json');
    expect(warm.code, warm.err).to.equal(0);
    const line = JSON.parse(warm.out.trim().split('\n').pop()!) as { hits: number; misses: number; bytesRead: number };
    expect(line).to.include({ hits: 5, misses: 0, bytesRead: 5 * 8 * 8 * 3 });
    // From a manifest: its entries only, at another size.
    const manifest = path.join(tmpDir('dcache-cli-m'), 'manifest.json');
    const m = await indexDataset(root);
    await writeManifest(manifest, { ...m, entries: m.entries.slice(0, 2), hash: manifestHash(m.entries.slice(0, 2)) });
    const fromManifest = await run('cache', manifest, '--size', '6', '--decode-cache', dir);
    expect(fromManifest.out, fromManifest.err).to.match(/^2 images at 6 px \(fill\): 0 hits, 2 misses/);
    for (const [args, re] of [
      [['--decode-cache', 'off'], /nothing to warm/],
      [['--fit', 'stretch'], /Expected one of 'fill', 'cover' for --fit but received 'stretch'/],
      [['--decode-cache-size', '0'], /positive number of GiB/],
    ] as [string[], RegExp][]) {
      const r = await run('cache', root, '--decode-cache', dir, ...args);
      expect([r.code, r.err]).to.satisfy(([code, err]: [number, string]) => code === 1 && re.test(err));
    }
  });
});
