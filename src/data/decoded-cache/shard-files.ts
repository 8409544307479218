// The files of a cache folder. Each writer owns its shards: `<stem>.pack` (records appended, never
// rewritten) and `<stem>.index.json` (where each record starts), the index replaced atomically.
// A shard's last use is its pack file's mtime: appends set it, readers bump it with utimes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { RECORD_MAGIC } from './record';

/** Pixels depend on the decoder: shards written by another sharp or libvips are not read. */
export const DECODER = `sharp ${sharp.versions.sharp ?? '?'} vips ${sharp.versions.vips}`;

export interface IndexFile {
  magic: string;
  decoder: string;
  pack: string;
  /** [key, record offset, pixel bytes]. */
  records: [string, number, number][];
  /** [absolute path, stat stamp, sha256]: files this writer hashed, so later runs need not. */
  sources?: [string, string, string][];
}

export interface ShardInfo {
  stem: string;
  pack: string;
  index: string;
  /** Pack plus index bytes on disk. */
  bytes: number;
  lastUsedMs: number;
}

let counter = 0;

/** A name no other writer (process or instance) will pick: time, pid, a counter and randomness. */
export function newStem(): string {
  return `${Date.now().toString(36)}-${process.pid}-${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export const packPath = (dir: string, stem: string): string => path.join(dir, `${stem}.pack`);
export const indexPath = (dir: string, stem: string): string => path.join(dir, `${stem}.index.json`);

/** The index of a shard, or undefined when it is missing, unreadable, of another format or decoder. */
export function readIndex(file: string): IndexFile | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as IndexFile;
    return v && v.magic === RECORD_MAGIC && v.decoder === DECODER && Array.isArray(v.records) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Every shard with a pack file, with sizes and last use. */
export async function listShards(dir: string): Promise<ShardInfo[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const out: ShardInfo[] = [];
  for (const name of names) {
    if (!name.endsWith('.pack') || name.startsWith('.')) continue;
    const stem = name.slice(0, -'.pack'.length);
    try {
      const p = await fs.promises.stat(packPath(dir, stem));
      const i = await fs.promises.stat(indexPath(dir, stem)).catch(() => undefined);
      out.push({ stem, pack: packPath(dir, stem), index: indexPath(dir, stem), bytes: p.size + (i?.size ?? 0), lastUsedMs: p.mtimeMs });
    } catch {
      // Evicted by another process while we looked.
    }
  }
  return out;
}
