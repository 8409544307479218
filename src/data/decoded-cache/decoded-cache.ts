// A persistent, size-bounded store of decoded, resized images shared by every run on a machine:
// each (file content, size, fit) is decoded once, then read back with one positional read. Several
// processes may use one folder at once: each appends only to its own shards and publishes them
// through atomically written indexes; every read is checked (see record.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResizeFit } from '../decode-image';
import { ContentHasher } from './content-hash';
import { evictToLimit } from './evict';
import { decodeRecord, HEADER_BYTES, keyString, type RecordKey } from './record';
import { indexPath, listShards, packPath, readIndex } from './shard-files';
import { ShardWriter, type StoredRecord } from './shard-writer';

export const DEFAULT_MAX_BYTES = 20 * 2 ** 30;
const MAX_SHARD_BYTES = 256 * 2 ** 20;

export interface DecodedCacheOptions {
  /** The cache folder (created when missing). */
  dir: string;
  /** Bound on the folder's bytes; default the smaller of 20 GiB and what it holds plus half the free disk. */
  maxBytes?: number;
  /** Pack file size before a writer starts a new one; default 256 MiB (less under small bounds). */
  shardBytes?: number;
  /** How long appended records wait before their index is published (default 300 ms). */
  flushMs?: number;
}

export interface DecodedCacheStats {
  hits: number;
  misses: number;
  bytesRead: number;
  bytesWritten: number;
  /** Records that failed their check (torn or overwritten): treated as misses. */
  corrupt: number;
  /** Source files read and hashed (the others' stamps were known). */
  filesHashed: number;
}

export interface DecodeSpec {
  size: number;
  fit: ResizeFit;
}

/** Decodes a file (given its bytes when they were already read, else its path) to RGB pixels. */
export type Decoder = (input: string | Buffer) => Promise<Buffer>;

function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + (fs.statSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
}

function defaultMaxBytes(dir: string, used: number): number {
  try {
    const s = fs.statfsSync(dir);
    return Math.min(DEFAULT_MAX_BYTES, used + (s.bavail * s.bsize) / 2);
  } catch {
    return DEFAULT_MAX_BYTES;
  }
}

export class DecodedCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly stats: DecodedCacheStats = { hits: 0, misses: 0, bytesRead: 0, bytesWritten: 0, corrupt: 0, filesHashed: 0 };
  private readonly shardBytes: number;
  private readonly flushMs: number;
  private readonly entries = new Map<string, StoredRecord>();
  /** Index files read, by stem, with the mtime seen, so a refresh reads only changed ones. */
  private readonly indexSeen = new Map<string, number>();
  private readonly readers = new Map<string, Promise<fs.promises.FileHandle>>();
  private readonly touched = new Map<string, number>();
  private readonly hasher = new ContentHasher();
  private readonly inFlight = new Map<string, Promise<Buffer>>();
  private readonly ownStems = new Set<string>();
  private writer?: Promise<ShardWriter>;
  private readonly closing = new Set<Promise<void>>();
  private flushTimer?: NodeJS.Timeout;
  private lastRefresh = 0;
  private writeError?: Error;

  /** Opens (creating) the folder and reads the indexes already there. */
  constructor(options: DecodedCacheOptions) {
    this.dir = options.dir;
    fs.mkdirSync(this.dir, { recursive: true });
    this.loadIndexes();
    this.maxBytes = options.maxBytes ?? defaultMaxBytes(this.dir, folderBytes(this.dir));
    if (!(this.maxBytes >= 0)) throw new Error(`Expected a cache bound in bytes ≥ 0 but received ${this.maxBytes}.`);
    this.shardBytes = options.shardBytes ?? Math.max(2 ** 20, Math.min(MAX_SHARD_BYTES, Math.floor(this.maxBytes / 8)));
    this.flushMs = options.flushMs ?? 300;
  }

  /** Images whose records this instance knows of. */
  get size(): number {
    return this.entries.size;
  }

  /** The pixels stored for `k`, or undefined (a miss). */
  async get(k: RecordKey): Promise<Buffer | undefined> {
    const key = keyString(k);
    let at = this.entries.get(key);
    if (!at && Date.now() - this.lastRefresh > 1000) {
      // Another process may have published it since we looked.
      this.loadIndexes();
      at = this.entries.get(key);
    }
    const data = at && await this.read(at, k);
    if (!data) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.stats.bytesRead += data.length;
    this.touch(at!.stem);
    return data;
  }

  /** Stores `data` for `k`; failures (disk full, folder removed) stop writing but never throw. */
  async put(k: RecordKey, data: Buffer): Promise<void> {
    if (this.writeError || HEADER_BYTES + data.length > this.maxBytes) return;
    try {
      const writer = await this.writerFor(HEADER_BYTES + data.length);
      const at = await writer.append(k, data);
      this.entries.set(keyString(k), at);
      this.stats.bytesWritten += HEADER_BYTES + data.length;
      this.scheduleFlush(writer);
    } catch (err) {
      this.stopWriting(err as Error);
    }
  }

  /**
   * The pixels of `file` at `spec`: from the cache when its current content was decoded before,
   * else from `decode`, then stored. A file that cannot be read goes to `decode` as a path, so
   * its error reads as without a cache.
   */
  async getOrDecode(file: string, spec: DecodeSpec, decode: Decoder): Promise<Buffer> {
    let hashed;
    try {
      hashed = await this.hasher.hash(file);
    } catch {
      return decode(file);
    }
    if (hashed.bytes) this.stats.filesHashed++;
    if (hashed.bytes && hashed.settled) this.addSource(path.resolve(file), hashed.stamp, hashed.sha256);
    const k: RecordKey = { sha256: hashed.sha256, size: spec.size, fit: spec.fit };
    const key = keyString(k);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const work = (async () => {
      const cached = await this.get(k);
      if (cached) return cached;
      const data = await decode(hashed.bytes ?? file);
      await this.put(k, data);
      return data;
    })();
    this.inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Publishes what was written, enforces the bound and closes files. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.writer) {
      const w = this.writer;
      this.writer = undefined;
      await this.retire(await w.catch(() => undefined));
    }
    await Promise.allSettled([...this.closing]);
    await this.evict();
    const readers = [...this.readers.values()];
    this.readers.clear();
    for (const r of readers) await (await r.catch(() => undefined))?.close();
  }

  /** Bytes the folder holds now and its shard count. */
  async usage(): Promise<{ bytes: number; shards: number }> {
    const shards = await listShards(this.dir);
    return { bytes: shards.reduce((s, x) => s + x.bytes, 0), shards: shards.length };
  }

  /** Publishes a file's hash for later processes (see content-hash.ts); never throws. */
  private addSource(file: string, stamp: string, sha256: string): void {
    if (this.writeError) return;
    this.writerFor(0).then((w) => {
      w.addSource(file, stamp, sha256);
      this.scheduleFlush(w);
    }).catch((err: Error) => this.stopWriting(err));
  }

  private stopWriting(err: Error): void {
    if (this.writeError) return;
    this.writeError = err;
    process.emitWarning(`Decoded-image cache ${this.dir} stopped writing: ${err.message}`);
  }

  /** Reads every index that is new or changed since the last look. */
  private loadIndexes(): void {
    this.lastRefresh = Date.now();
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith('.index.json') || name.startsWith('.')) continue;
      const stem = name.slice(0, -'.index.json'.length);
      const st = fs.statSync(indexPath(this.dir, stem), { throwIfNoEntry: false });
      if (!st || this.ownStems.has(stem) || this.indexSeen.get(stem) === st.mtimeMs) continue;
      const index = readIndex(indexPath(this.dir, stem));
      if (!index) continue;
      this.indexSeen.set(stem, st.mtimeMs);
      for (const [key, offset, length] of index.records) this.entries.set(key, { stem, offset, length });
      for (const [file, stamp, sha256] of index.sources ?? []) this.hasher.remember(file, stamp, sha256);
    }
  }

  private async read(at: StoredRecord, k: RecordKey): Promise<Buffer | undefined> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await this.reader(at.stem);
    } catch {
      this.forget(at.stem); // evicted by another process
      return undefined;
    }
    const record = Buffer.allocUnsafe(HEADER_BYTES + at.length);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(record, 0, record.length, at.offset));
    } catch {
      this.forget(at.stem);
      return undefined;
    }
    const data = decodeRecord(record.subarray(0, bytesRead), k, at.length);
    if (!data) {
      this.stats.corrupt++;
      this.entries.delete(keyString(k));
    }
    return data;
  }

  private reader(stem: string): Promise<fs.promises.FileHandle> {
    let r = this.readers.get(stem);
    if (!r) {
      r = fs.promises.open(packPath(this.dir, stem), 'r');
      this.readers.set(stem, r);
      r.catch(() => this.readers.delete(stem));
    }
    return r;
  }

  /** Records that `stem` was used now (its pack's mtime), at most every 10 s per shard. */
  private touch(stem: string): void {
    const now = Date.now();
    if (now - (this.touched.get(stem) ?? 0) < 10_000) return;
    this.touched.set(stem, now);
    const t = new Date(now);
    fs.promises.utimes(packPath(this.dir, stem), t, t).catch(() => undefined);
  }

  private forget(stem: string): void {
    for (const [key, at] of this.entries) if (at.stem === stem) this.entries.delete(key);
    this.indexSeen.delete(stem);
    const r = this.readers.get(stem);
    this.readers.delete(stem);
    r?.then((h) => h.close()).catch(() => undefined);
  }

  private async writerFor(recordBytes: number): Promise<ShardWriter> {
    if (this.writer) {
      const w = await this.writer;
      if (w.bytes === 0 || w.bytes + recordBytes <= this.shardBytes) return w;
      // Full: the next record starts a new shard; this one is published and closed.
      if (this.writer && (await this.writer) === w) {
        this.writer = undefined;
        this.retire(w).catch(() => undefined);
      }
      return this.writerFor(recordBytes);
    }
    this.writer = ShardWriter.create(this.dir);
    const w = await this.writer;
    this.ownStems.add(w.stem);
    return w;
  }

  private async retire(w: ShardWriter | undefined): Promise<void> {
    if (!w) return;
    const done = w.close().then(() => this.evict());
    this.closing.add(done);
    try {
      await done;
    } finally {
      this.closing.delete(done);
    }
  }

  private scheduleFlush(w: ShardWriter): void {
    if (w.unpublished >= 256) {
      this.publish(w);
      return;
    }
    if (this.flushTimer) return;
    // Not unref'd: a process that wrote records publishes them before it exits.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.writer?.then((cur) => this.publish(cur)).catch(() => undefined);
    }, this.flushMs);
  }

  private publish(w: ShardWriter): void {
    w.flush().then(() => this.evict()).catch(() => undefined);
  }

  private async evict(): Promise<void> {
    const current = this.writer ? await this.writer.catch(() => undefined) : undefined;
    const { removed } = await evictToLimit(this.dir, this.maxBytes, new Set(current ? [current.stem] : []));
    for (const stem of removed) this.forget(stem);
  }
}
