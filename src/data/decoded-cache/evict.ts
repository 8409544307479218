// Keeps a cache folder under its byte bound by deleting whole shards, least recently used first.
// Also removes what crashed writers leave: indexes whose pack is gone and dead writers' temp files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeStaleTemps } from '../../util/stale-temp-files';
import { listShards, type ShardInfo } from './shard-files';

export interface EvictionResult {
  /** Stems deleted. */
  removed: string[];
  /** Bytes the folder holds afterwards. */
  bytes: number;
}

/** Deletes least recently used shards until the folder holds at most `maxBytes`; `keep` are never deleted. */
export async function evictToLimit(dir: string, maxBytes: number, keep: ReadonlySet<string>): Promise<EvictionResult> {
  const shards = await listShards(dir);
  let bytes = shards.reduce((s, x) => s + x.bytes, 0);
  const removed: string[] = [];
  const victims = shards.filter((s) => !keep.has(s.stem)).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  for (const s of victims) {
    if (bytes <= maxBytes) break;
    await removeShard(s);
    bytes -= s.bytes;
    removed.push(s.stem);
  }
  await removeLeftovers(dir, new Set(shards.map((s) => s.stem)));
  return { removed, bytes };
}

async function removeShard(s: ShardInfo): Promise<void> {
  // Index first: a reader that loads the folder now does not find records in a vanishing pack.
  await fs.promises.rm(s.index, { force: true });
  await fs.promises.rm(s.pack, { force: true });
}

async function removeLeftovers(dir: string, packs: ReadonlySet<string>): Promise<void> {
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.endsWith('.index.json') && !packs.has(name.slice(0, -'.index.json'.length))) {
      // Re-check: the pack may have been created after the listing.
      if (!fs.existsSync(file.slice(0, -'.index.json'.length) + '.pack')) await fs.promises.rm(file, { force: true });
    }
  }
  // Index files half-written by a killed process (atomic-write temps); never a live writer's.
  removeStaleTemps(dir);
}
