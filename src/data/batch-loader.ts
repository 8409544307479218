// Streams batches of decoded images as NHWC uint8 buffers with labels. Decoding runs with bounded
// concurrency and `prefetch` batches ahead of the consumer, so the GPU does not wait on PNGs.
import * as path from 'node:path';
import { classIndex } from './breakhis-names';
import { defaultDecodeConcurrency } from '../util/decode-threads';
import { decodeImage, DEFAULT_IMAGE_SIZE, shareCoresBetweenDecodes, DEFAULT_LIMIT_INPUT_PIXELS, type ResizeFit } from './decode-image';
import type { DecodedCache } from './decoded-cache';
import { ImageCache } from './image-cache';
import type { ManifestEntry } from './manifest';
import { expectInteger } from '../util/expect';
import { deriveSeed, mulberry32, shuffle } from '../util/prng';

export interface ImageBatch {
  /** n*h*w*3 bytes, RGB uint8, NHWC. */
  data: Buffer;
  shape: [number, number, number, 3];
  /** 0 benign, 1 malignant. */
  labels: number[];
  entries: ManifestEntry[];
}

export interface BatchLoaderOptions {
  batchSize: number;
  /** Square side in pixels (default 224). */
  size?: number;
  fit?: ResizeFit;
  /** Shuffle each epoch with this seed (epoch e uses a stream derived from seed and e); omit to keep order. */
  shuffleSeed?: number;
  /** Batches decoded ahead of the consumer (default 2). */
  prefetch?: number;
  /** Images decoded at once (default one per core). */
  concurrency?: number;
  /** An ImageCache, or a byte budget for a new one; omit for no cache. */
  cache?: ImageCache | number;
  /** The persistent cache on disk (shared by runs and processes), consulted after `cache`. */
  decodedCache?: DecodedCache;
  /** Drop a last, smaller batch (default false). */
  dropLast?: boolean;
  /**
   * Serve only this rank's share of each batch (positions rank, rank + worldSize, ...), as
   * distributed training does; `batchSize` stays the global batch, a share may be empty.
   */
  shard?: { rank: number; worldSize: number };
  limitInputPixels?: number;
}

export interface LoaderStats {
  imagesDecoded: number;
  /** Most decodes that were in flight at once (bounded by `concurrency`). */
  peakConcurrentDecodes: number;
  batchesStarted: number;
  batchesYielded: number;
}

/** Limits how many async tasks run at once. */
function limiter(max: number, onStart: (running: number) => void): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so a newcomer arriving in
    // between cannot take it too and exceed `max`.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    onStart(running);
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

export class BatchLoader implements AsyncIterable<ImageBatch> {
  readonly cache?: ImageCache;
  readonly stats: LoaderStats = { imagesDecoded: 0, peakConcurrentDecodes: 0, batchesStarted: 0, batchesYielded: 0 };
  private readonly size: number;
  private readonly fit: ResizeFit;
  private readonly prefetch: number;
  private readonly batchSize: number;
  private readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  private nextEpoch = 0;

  constructor(private readonly items: readonly ManifestEntry[], private readonly root: string, private readonly options: BatchLoaderOptions) {
    this.batchSize = expectInteger(options.batchSize, 'batchSize', 1);
    this.size = expectInteger(options.size ?? DEFAULT_IMAGE_SIZE, 'size', 1);
    this.prefetch = expectInteger(options.prefetch ?? 2, 'prefetch', 0);
    const concurrency = expectInteger(options.concurrency ?? defaultDecodeConcurrency(), 'concurrency', 1);
    this.limit = limiter(concurrency, (running) => { this.stats.peakConcurrentDecodes = Math.max(this.stats.peakConcurrentDecodes, running); });
    shareCoresBetweenDecodes(concurrency);
    this.fit = options.fit ?? 'fill';
    if (options.cache !== undefined) this.cache = typeof options.cache === 'number' ? new ImageCache(options.cache) : options.cache;
  }

  /** Number of batches in one epoch. */
  get length(): number {
    const n = this.items.length / this.batchSize;
    return this.options.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Entries of one epoch in the order they will be served. */
  order(epoch: number): ManifestEntry[] {
    if (this.options.shuffleSeed === undefined) return this.items.slice();
    return shuffle(mulberry32(deriveSeed(this.options.shuffleSeed, `epoch/${epoch}`)), this.items);
  }

  /** Each `for await` is one epoch; successive loops are successive epochs. */
  [Symbol.asyncIterator](): AsyncIterator<ImageBatch> {
    return this.epoch(this.nextEpoch++)[Symbol.asyncIterator]();
  }

  /** The entries of each batch of one epoch, in order: what `epoch(e)` yields, without decoding. */
  groups(epoch: number): ManifestEntry[][] {
    const order = this.order(epoch);
    const groups: ManifestEntry[][] = [];
    for (let i = 0; i < order.length; i += this.batchSize) groups.push(order.slice(i, i + this.batchSize));
    if (this.options.dropLast && groups.length && groups[groups.length - 1].length < this.batchSize) groups.pop();
    const shard = this.options.shard;
    return shard ? groups.map((g) => g.filter((_, i) => i % shard.worldSize === shard.rank)) : groups;
  }

  async *epoch(epoch: number): AsyncGenerator<ImageBatch> {
    const groups = this.groups(epoch);
    const pending: Promise<ImageBatch>[] = [];
    let started = 0;
    const topUp = (n: number): void => {
      while (started < groups.length && pending.length < n) {
        const p = this.loadBatch(groups[started++]);
        p.catch(() => undefined); // surfaced when the consumer reaches it
        pending.push(p);
      }
    };
    while (pending.length || started < groups.length) {
      topUp(this.prefetch + 1);
      const batch = await pending.shift()!;
      // While the consumer works on this batch, `prefetch` more are decoding.
      topUp(this.prefetch);
      this.stats.batchesYielded++;
      yield batch;
    }
  }

  private async decodeOne(e: ManifestEntry): Promise<Buffer> {
    const key = `${e.path}|${this.size}|${this.fit}`;
    const cached = this.cache?.get(key);
    if (cached) return cached;
    const file = path.join(this.root, e.path);
    const decode = async (input: string | Buffer): Promise<Buffer> => {
      const img = await this.limit(() => decodeImage(input, {
        size: this.size, fit: this.fit, limitInputPixels: this.options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS, name: `The file ${file}`,
      }));
      this.stats.imagesDecoded++;
      return img.data;
    };
    const data = this.options.decodedCache ? await this.options.decodedCache.getOrDecode(file, { size: this.size, fit: this.fit }, decode) : await decode(file);
    this.cache?.set(key, data);
    return data;
  }

  private async loadBatch(entries: ManifestEntry[]): Promise<ImageBatch> {
    this.stats.batchesStarted++;
    const images = await Promise.all(entries.map((e) => this.decodeOne(e)));
    return {
      data: Buffer.concat(images),
      shape: [entries.length, this.size, this.size, 3],
      labels: entries.map((e) => classIndex(e.cls)),
      entries,
    };
  }
}
