// `histoscope index | split | synth | cache`: commander wiring only. Each action calls a src/data function
// the tests call too; failures print one line (what went wrong and the fix) and exit 1.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  createProgress, DEFAULT_FRACTIONS, decodedCacheDir, DecodedCache, formatSummary, generateSynthetic, indexDataset,
  makeSplit, readManifest, summarizeManifest, warmDecodedCache, writeManifest, writeSplit,
} from '../data';
import { expectInteger, invalid } from '../util/expect';
import { action, addOptions, num, oneOf, type OptionSpec, parseMagnifications } from './options';

const INDEX_OPTIONS: OptionSpec[] = [
  { flags: '-o, --out <file>', description: 'manifest JSON to write (a CSV is written beside it)', defaultValue: 'manifest.json' },
  { flags: '--concurrency <n>', description: 'files checked at once', defaultValue: '4' },
  { flags: '--no-verify', description: 'read image headers only (faster; misses truncated files)' },
  { flags: '--limit-input-pixels <n>', description: 'largest image accepted, in pixels', defaultValue: '100000000' },
  { flags: '--json', description: 'progress and summary as JSON lines', defaultValue: false },
];

const SPLIT_OPTIONS: OptionSpec[] = [
  { flags: '-m, --manifest <file>', description: 'manifest from `histoscope index`', defaultValue: 'manifest.json' },
  { flags: '-o, --out <file>', description: 'split file to write', defaultValue: 'split.json' },
  { flags: '--seed <n>', description: 'random seed', defaultValue: '42' },
  { flags: '--train <f>', description: 'train fraction of patients', defaultValue: String(DEFAULT_FRACTIONS.train) },
  { flags: '--val <f>', description: 'validation fraction of patients', defaultValue: String(DEFAULT_FRACTIONS.val) },
  { flags: '--test <f>', description: 'test fraction of patients', defaultValue: String(DEFAULT_FRACTIONS.test) },
  { flags: '--group-by <key>', description: 'patient (ID) or case (case number, stricter)', defaultValue: 'patient' },
  { flags: '--cap <n>', description: 'max images per class per magnification (e.g. 500)' },
  { flags: '--folds <k>', description: 'k-fold mode: k patient-wise folds (test = fold, val from the rest)' },
  { flags: '--mag <list>', description: 'only these magnifications, e.g. 40X,100X' },
];

const SYNTH_OPTIONS: OptionSpec[] = [
  { flags: '--patients <n>', description: 'number of patients (half benign, half malignant)', defaultValue: '16' },
  { flags: '--images-per-patient <k>', description: 'images per patient at each magnification', defaultValue: '8' },
  { flags: '--size <WxH>', description: 'tile size', defaultValue: '700x460' },
  { flags: '--seed <n>', description: 'random seed (same seed → byte-identical PNGs)', defaultValue: '1' },
  { flags: '--concurrency <n>', description: 'tiles rendered at once', defaultValue: '2' },
  { flags: '--json', description: 'progress as JSON lines', defaultValue: false },
];

const CACHE_OPTIONS: OptionSpec[] = [
  { flags: '--size <px>', description: 'square side the images are resized to (the model input)', defaultValue: '224' },
  { flags: '--fit <fit>', description: 'fill (squash, as the study) or cover (centre crop)', defaultValue: 'fill' },
  { flags: '--decode-cache <dir>', description: 'cache folder (auto: $HISTOSCOPE_CACHE/decoded, else ~/.cache/histoscope/decoded)', defaultValue: 'auto' },
  { flags: '--decode-cache-size <GiB>', description: 'bound on the cache folder; least recently used shards go first (default: 20 GiB or half the free disk)' },
  { flags: '--concurrency <n>', description: 'images decoded at once', defaultValue: String(os.availableParallelism()) },
  { flags: '--json', description: 'progress and the result as JSON lines', defaultValue: false },
];

const mb = (bytes: number): string => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

export function registerDataCommands(program: Command): void {
  addOptions(program.command('index').argument('<dir>', 'BreakHis folder (any layout)')
    .description('index a BreakHis folder: manifest (JSON + CSV) and a summary against the full dataset'), INDEX_OPTIONS)
    .action(action(async (dir: string, o: Record<string, string | boolean>) => {
      const json = o.json === true;
      const manifest = await indexDataset(dir, {
        concurrency: num('--concurrency', o.concurrency as string),
        verify: o.verify !== false,
        limitInputPixels: num('--limit-input-pixels', o.limitInputPixels as string),
        progress: (total) => createProgress({ label: 'index', total, json }),
      });
      const files = await writeManifest(path.resolve(o.out as string), manifest);
      const summary = summarizeManifest(manifest);
      if (json) {
        process.stdout.write(JSON.stringify({ event: 'summary', ...summary, manifest: files.json, csv: files.csv, skippedFiles: manifest.skipped, warningList: manifest.warnings }) + '\n');
        return;
      }
      process.stdout.write(formatSummary(summary) + '\n');
      for (const s of manifest.skipped.slice(0, 20)) process.stdout.write(`  skipped ${s.path}: ${s.reason}\n`);
      if (manifest.skipped.length > 20) process.stdout.write(`  … ${manifest.skipped.length - 20} more skipped files in ${files.json}\n`);
      for (const w of manifest.warnings.slice(0, 20)) process.stdout.write(`  warning: ${w}\n`);
      if (manifest.warnings.length > 20) process.stdout.write(`  … ${manifest.warnings.length - 20} more warnings in ${files.json}\n`);
      process.stdout.write(`Wrote ${files.json} and ${files.csv}\n`);
    }));

  addOptions(program.command('split')
    .description('patient-wise, class-stratified, seeded train/val/test split (or k folds) of a manifest'), SPLIT_OPTIONS)
    .action(action(async (o: Record<string, string>) => {
      const manifestPath = path.resolve(o.manifest);
      const outPath = path.resolve(o.out);
      const groupBy = oneOf('--group-by', o.groupBy, ['patient', 'case'] as const);
      const split = makeSplit(readManifest(manifestPath), {
        seed: num('--seed', o.seed),
        fractions: { train: num('--train', o.train, false)!, val: num('--val', o.val, false)!, test: num('--test', o.test, false)! },
        groupBy,
        capPerClass: num('--cap', o.cap),
        folds: num('--folds', o.folds),
        magnifications: parseMagnifications(o.mag),
        manifestPath: path.relative(path.dirname(outPath), manifestPath),
      });
      await writeSplit(outPath, split);
      for (const fold of split.splits) {
        const parts = (['train', 'val', 'test'] as const).map((p) => {
          const part = fold.parts[p];
          return `${p} ${part.patients.length} patients, ${part.imagesByClass.benign} B / ${part.imagesByClass.malignant} M images`;
        });
        process.stdout.write(`${fold.name}: ${parts.join('; ')}\n`);
      }
      process.stdout.write(`Wrote ${outPath}\n`);
    }));

  addOptions(program.command('synth').argument('<out>', 'folder to create')
    .description('write a synthetic BreakHis-like dataset (NOT tissue) for tests and the demo'), SYNTH_OPTIONS)
    .action(action(async (out: string, o: Record<string, string | boolean>) => {
      const size = /^(\d+)x(\d+)$/i.exec(o.size as string);
      if (!size) throw invalid('WIDTHxHEIGHT such as 700x460', '--size', o.size);
      const patients = num('--patients', o.patients as string)!;
      const imagesPerPatient = num('--images-per-patient', o.imagesPerPatient as string)!;
      const t0 = Date.now();
      const r = await generateSynthetic(out, {
        patients, imagesPerPatient, width: Number(size[1]), height: Number(size[2]), seed: num('--seed', o.seed as string),
        concurrency: num('--concurrency', o.concurrency as string),
        progress: (total) => createProgress({ label: 'synth', total, json: o.json === true }),
      });
      const secs = (Date.now() - t0) / 1000;
      process.stdout.write(`Wrote ${r.written} synthetic tiles (${r.kept} already present) for ${r.patients.length} patients under ${r.root} in ${secs.toFixed(1)} s\n`);
    }));

  addOptions(program.command('cache').argument('<source>', 'BreakHis folder, or a manifest from `histoscope index`')
    .description('decode every image once into the persistent decoded-image cache that train, sweep, cv, evaluate and predict share'), CACHE_OPTIONS)
    .action(action(async (source: string, o: Record<string, string | boolean>) => {
      const json = o.json === true;
      const fit = oneOf('--fit', o.fit as string, ['fill', 'cover'] as const)!;
      const dir = decodedCacheDir(o.decodeCache as string);
      if (dir === null) throw new Error('--decode-cache off leaves nothing to warm; pass auto or a folder.');
      const gib = num('--decode-cache-size', o.decodeCacheSize as string | undefined, false);
      if (gib !== undefined && gib <= 0) throw invalid('positive number of GiB', '--decode-cache-size', gib);
      const cache = new DecodedCache({ dir, maxBytes: gib === undefined ? undefined : gib * 2 ** 30 });
      const size = expectInteger(num('--size', o.size as string), '--size', 1, 4096);
      const r = await warmDecodedCache(source, {
        cache, size, fit, concurrency: num('--concurrency', o.concurrency as string),
        progress: (total) => createProgress({ label: 'cache', total, json }),
      });
      await cache.close();
      const usage = await cache.usage();
      if (json) {
        process.stdout.write(JSON.stringify({ event: 'cache', dir, size, fit, ...r, cacheBytes: usage.bytes, maxBytes: cache.maxBytes }) + '\n');
      } else {
        process.stdout.write(`${r.images} images at ${size} px (${fit}): ${r.hits} hits, ${r.misses} misses (decoded now), ${r.failed.length} failed; ` +
          `read ${mb(r.bytesRead)}, wrote ${mb(r.bytesWritten)} in ${r.seconds.toFixed(1)} s (${r.imagesPerSecond.toFixed(0)} images/s)\n`);
        for (const f of r.failed.slice(0, 20)) process.stdout.write(`  failed ${f.path}: ${f.error}\n`);
        process.stdout.write(`${dir} holds ${mb(usage.bytes)} in ${usage.shards} shard(s), bounded at ${mb(cache.maxBytes)}\n`);
      }
    }));
}
