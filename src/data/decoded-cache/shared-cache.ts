// Which cache folder a setting names, and one DecodedCache per folder per process, so the runs of
// a sweep or cross-validation (and their evaluations) share what each has read and written.
import * as path from 'node:path';
import { histoscopeCacheDir } from '../../util/cache-dir';
import { DecodedCache } from './decoded-cache';

/** `auto` (the default folder), `off`, or a folder. */
export type DecodeCacheSetting = string;

/** Overrides where `auto` points (a folder or `off`); the tests set it to a temporary folder. */
export const DECODE_CACHE_ENV = 'HISTOSCOPE_DECODE_CACHE';

/** The folder `setting` names, or null when the cache is off. */
export function decodedCacheDir(setting: DecodeCacheSetting = 'auto', env: NodeJS.ProcessEnv = process.env): string | null {
  if (setting === 'off') return null;
  if (setting !== 'auto') return path.resolve(setting);
  const fromEnv = env[DECODE_CACHE_ENV];
  if (fromEnv === 'off') return null;
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(histoscopeCacheDir(env), 'decoded');
}

const shared = new Map<string, DecodedCache>();

export interface SharedCacheOptions {
  /** Bound in GiB; null or undefined for the default (see DecodedCache). Only the first opening of a folder sets it. */
  gigabytes?: number | null;
  env?: NodeJS.ProcessEnv;
}

/**
 * This process's cache for the folder `setting` names; undefined when off, or when the folder
 * cannot be created (a warning says so and the run goes on decoding every image).
 */
export function sharedDecodedCache(setting: DecodeCacheSetting = 'auto', options: SharedCacheOptions = {}): DecodedCache | undefined {
  const dir = decodedCacheDir(setting, options.env);
  if (dir === null) return undefined;
  let cache = shared.get(dir);
  if (!cache) {
    try {
      cache = new DecodedCache({ dir, maxBytes: options.gigabytes == null ? undefined : options.gigabytes * 2 ** 30 });
    } catch (err) {
      process.emitWarning(`Decoded-image cache ${dir} is unusable (${(err as Error).message}); decoding without it. Pass --decode-cache off or a writable folder.`);
      return undefined;
    }
    shared.set(dir, cache);
  }
  return cache;
}
