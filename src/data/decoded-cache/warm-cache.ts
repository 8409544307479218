// `histoscope cache DIR`: decodes every image of a folder (or of a manifest) into the decoded-image
// cache ahead of training, so the first epoch of every later run reads pixels instead of PNGs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mapWithConcurrency } from '../concurrency';
import { decodeImage, DEFAULT_IMAGE_SIZE, DEFAULT_LIMIT_INPUT_PIXELS, type ResizeFit } from '../decode-image';
import { readManifest } from '../manifest';
import { type Progress, silentProgress } from '../progress';
import { listFiles } from '../walk-files';
import type { DecodedCache } from './decoded-cache';

const IMAGE_EXTENSIONS = /\.(png|jpe?g|tiff?|webp|bmp|gif)$/i;

export interface WarmOptions {
  cache: DecodedCache;
  size?: number;
  fit?: ResizeFit;
  /** Images decoded at once (default 2). */
  concurrency?: number;
  limitInputPixels?: number;
  progress?: (total: number) => Progress;
}

export interface WarmResult {
  images: number;
  /** Already in the cache (read back and checked). */
  hits: number;
  /** Decoded now and written. */
  misses: number;
  failed: { path: string; error: string }[];
  bytesRead: number;
  bytesWritten: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Absolute paths of the images `source` names: a manifest's entries, or every image file under a folder. */
async function imagesOf(source: string): Promise<string[]> {
  const abs = path.resolve(source);
  const st = await fs.promises.stat(abs).catch(() => undefined);
  if (!st) throw new Error(`${abs} does not exist; pass a BreakHis folder or a manifest from \`histoscope index\`.`);
  if (st.isFile()) {
    const m = readManifest(abs);
    return m.entries.map((e) => path.join(m.root, e.path));
  }
  return (await listFiles(abs)).filter((f) => IMAGE_EXTENSIONS.test(f)).map((f) => path.join(abs, f));
}

export async function warmDecodedCache(source: string, o: WarmOptions): Promise<WarmResult> {
  const files = await imagesOf(source);
  const size = o.size ?? DEFAULT_IMAGE_SIZE;
  const fit = o.fit ?? 'fill';
  const before = { ...o.cache.stats };
  const progress = o.progress?.(files.length) ?? silentProgress;
  const failed: WarmResult['failed'] = [];
  let misses = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  await mapWithConcurrency(files, o.concurrency ?? 2, async (file) => {
    try {
      await o.cache.getOrDecode(file, { size, fit }, async (input) => {
        const img = await decodeImage(input, { size, fit, limitInputPixels: o.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS, name: `The file ${file}` });
        misses++;
        return img.data;
      });
    } catch (err) {
      failed.push({ path: file, error: (err as Error).message.split('\n')[0] });
    }
    progress.tick(++done, `${done - misses - failed.length} hits`);
  });
  progress.finish();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = files.length - failed.length;
  return {
    images: files.length, hits: ok - misses, misses, failed,
    bytesRead: o.cache.stats.bytesRead - before.bytesRead, bytesWritten: o.cache.stats.bytesWritten - before.bytesWritten,
    seconds, imagesPerSecond: seconds > 0 ? ok / seconds : 0,
  };
}
