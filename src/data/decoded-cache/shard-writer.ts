// Appends records to one pack file that only this writer touches, and publishes them through the
// shard's index (written atomically, after the records it lists are written). Readers only learn
// of a record from an index, so they never look at bytes still being written.
import * as fs from 'node:fs';
import { writeFileAtomic } from '../../util/atomic-write';
import { encodeRecord, keyString, RECORD_MAGIC, type RecordKey } from './record';
import { DECODER, indexPath, type IndexFile, newStem, packPath } from './shard-files';

export interface StoredRecord {
  stem: string;
  offset: number;
  length: number;
}

export class ShardWriter {
  /** Bytes allocated in the pack (records written or being written). */
  bytes = 0;
  private readonly records: IndexFile['records'] = [];
  private readonly sources: NonNullable<IndexFile['sources']> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private published = 0;
  private flushing: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;

  private constructor(private readonly dir: string, readonly stem: string, private readonly handle: fs.promises.FileHandle) {}

  static async create(dir: string): Promise<ShardWriter> {
    const stem = newStem();
    return new ShardWriter(dir, stem, await fs.promises.open(packPath(dir, stem), 'wx'));
  }

  /** Records and sources not yet in the published index. */
  get unpublished(): number {
    return this.records.length + this.sources.length - this.published;
  }

  /** Publishes, with the next index, that the file at `file` with `stamp` has content `sha256`. */
  addSource(file: string, stamp: string, sha256: string): void {
    this.sources.push([file, stamp, sha256]);
  }

  async append(k: RecordKey, data: Buffer): Promise<StoredRecord> {
    const record = encodeRecord(k, data);
    // Offsets are taken synchronously, so concurrent appends never overlap.
    const offset = this.bytes;
    this.bytes += record.length;
    const write = this.handle.write(record, 0, record.length, offset);
    this.inFlight.add(write);
    try {
      const { bytesWritten } = await write;
      // Never indexed: readers would only find it torn.
      if (bytesWritten !== record.length) throw new Error(`short write (${bytesWritten} of ${record.length} bytes)`);
    } finally {
      this.inFlight.delete(write);
    }
    this.records.push([keyString(k), offset, data.length]);
    return { stem: this.stem, offset, length: data.length };
  }

  /** Writes the index of every record appended so far (one flush at a time, at most one waiting). */
  flush(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.flushing.then(async () => {
      this.queued = undefined;
      const n = this.records.length;
      const m = this.sources.length;
      if (this.published === n + m) return;
      const index: IndexFile = { magic: RECORD_MAGIC, decoder: DECODER, pack: `${this.stem}.pack`, records: this.records.slice(0, n), sources: this.sources.slice(0, m) };
      await writeFileAtomic(indexPath(this.dir, this.stem), JSON.stringify(index));
      this.published = n + m;
    });
    this.queued = run;
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Waits for writes, makes the pack durable, publishes its index and closes the pack. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    try {
      await this.handle.datasync();
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }
}
