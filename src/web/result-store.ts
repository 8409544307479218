// Analyses as resources: each answered upload is kept under a random id so that its page, its
// pictures and its downloads have their own URLs (/results/:id …). In memory by default, bounded
// in count and bytes and forgotten after a time-to-live; with a folder given (opt-in), each result
// is also written there (pictures first, the JSON that makes it visible last, every file atomically)
// and is served from there for as long as the folder keeps it.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ImageWarning, ModelSlot, Prediction } from '../infer';
import type { CamMethod } from '../native';
import { writeFileAtomic } from '../util/atomic-write';

export const PICTURES = ['image', 'overlay', 'heatmap'] as const;
export type PictureName = (typeof PICTURES)[number];

/** What a result page, its JSON and its CSV show; pictures are kept beside it. */
export interface ResultRecord {
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  fileName: string | null;
  sha256: string;
  magnification: ModelSlot;
  prediction: Prediction;
  /** Cautions about this image (out-of-distribution checks); never a refusal. */
  warnings: ImageWarning[];
  gradcam: { method: CamMethod; targetClass: 'benign' | 'malignant'; width: number; height: number } | null;
}

export interface StoredResult {
  record: ResultRecord;
  pictures: Partial<Record<PictureName, Buffer>>;
}

export interface ResultStoreOptions {
  /** How long a result stays reachable in memory, in milliseconds. */
  ttlMs: number;
  maxEntries: number;
  /** Bytes of pictures held in memory, all results together. */
  maxBytes: number;
  /** Opt-in folder where results are also kept (and read back after they left memory). */
  dir?: string;
  /** The clock (tests move it). */
  now?: () => number;
}

export const DEFAULT_RESULT_STORE: ResultStoreOptions = { ttlMs: 60 * 60 * 1000, maxEntries: 500, maxBytes: 512 * 2 ** 20 };

/** 128 random bits in URL-safe base64: unguessable, so a link is the only way to a result. */
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function isResultId(id: string): boolean {
  return ID_PATTERN.test(id);
}

const sizeOf = (r: StoredResult): number => Object.values(r.pictures).reduce((n, b) => n + (b?.length ?? 0), 0);

export class ResultStore {
  readonly options: ResultStoreOptions;
  private readonly entries = new Map<string, { result: StoredResult; expiresAt: number; bytes: number }>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(options: Partial<ResultStoreOptions> = {}) {
    this.options = { ...DEFAULT_RESULT_STORE, ...options };
    for (const key of ['ttlMs', 'maxEntries', 'maxBytes'] as const) {
      const v = this.options[key];
      if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`Expected a positive number for the result store's ${key} but received ${v}.`);
    }
    this.now = options.now ?? Date.now;
  }

  newId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** Keeps a result (in memory, and in the folder when there is one); oldest results make room. */
  async put(result: StoredResult): Promise<void> {
    if (this.options.dir) await this.writeToFolder(result);
    const bytes = sizeOf(result);
    this.entries.set(result.record.id, { result, expiresAt: this.now() + this.options.ttlMs, bytes });
    this.bytes += bytes;
    this.evict();
  }

  /** The result, or undefined when it never existed, expired or was pushed out (and is not in the folder). */
  async get(id: string): Promise<StoredResult | undefined> {
    if (!isResultId(id)) return undefined;
    this.evict();
    const entry = this.entries.get(id);
    if (entry) return entry.result;
    return this.options.dir ? this.readFromFolder(id) : undefined;
  }

  /** Seconds a picture may be cached by the browser: as long as the result lives here. */
  get maxAgeSeconds(): number {
    return Math.floor(this.options.ttlMs / 1000);
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private evict(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      // Insertion order is age order: stop at the first one that may stay.
      if (entry.expiresAt > now && this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
  }

  private filePath(id: string, part: string): string {
    return path.join(this.options.dir!, `${id}.${part}`);
  }

  private async writeToFolder({ record, pictures }: StoredResult): Promise<void> {
    for (const name of PICTURES) {
      const png = pictures[name];
      if (png) await writeFileAtomic(this.filePath(record.id, `${name}.png`), png);
    }
    await writeFileAtomic(this.filePath(record.id, 'json'), JSON.stringify(record, null, 2) + '\n');
  }

  private async readFromFolder(id: string): Promise<StoredResult | undefined> {
    let record: ResultRecord;
    try {
      record = JSON.parse(await fs.promises.readFile(this.filePath(id, 'json'), 'utf8')) as ResultRecord;
    } catch {
      return undefined;
    }
    if (record?.id !== id) return undefined;
    const pictures: Partial<Record<PictureName, Buffer>> = {};
    for (const name of PICTURES) {
      try {
        pictures[name] = await fs.promises.readFile(this.filePath(id, `${name}.png`));
      } catch {
        // This result has no such picture (an API call without Grad-CAM).
      }
    }
    return { record, pictures };
  }
}
