// `npm run bench:train`: one training epoch end to end on real PNGs (decode with sharp, resize to
// 224x224, on-device flips and right-angle rotations, ResNet-50 layer4+fc train steps with Adam and
// class-weighted cross-entropy) through Histoscope's pipeline, and the same epoch through a PyTorch
// reference pipeline (bench/train_reference.py: Dataset + DataLoader + torchvision transforms), on
// the same machine and the same files, side by side with the ratio.
//
// Options: --data DIR (a BreakHis folder; default: synthetic 700x460 tiles made in bench/out)
//          --images N (256) --batch B (32) --workers W (PyTorch DataLoader workers, 2)
//          --python PATH (/usr/bin/python3)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BatchLoader, classIndex, generateSynthetic, indexDataset } from '../src/data';
import { getThreads, Model } from '../src/native';
import { writeJsonAtomic } from '../src/util/atomic-write';
import { TUNED_MALLOC_ENV } from './tuned-malloc';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const images = Number(argument('images', '256'));
  const batchSize = Number(argument('batch', '32'));
  const workers = argument('workers', '2');
  const python = argument('python', '/usr/bin/python3');
  let data = argument('data', '');
  if (!data) {
    data = path.join('bench', 'out', 'train-data');
    // 16 patients x 8 tiles x 4 magnifications = 512 real-size PNGs, made once.
    await generateSynthetic(data, { patients: 16, imagesPerPatient: 8, seed: 7 });
  }
  const manifest = await indexDataset(data, { verify: false });
  const entries = manifest.entries.slice(0, images);
  if (entries.length < batchSize) throw new Error(`${data} holds only ${entries.length} images; need at least ${batchSize}.`);
  const labels = entries.map((e) => classIndex(e.cls));
  const counts = [0, 1].map((c) => labels.filter((l) => l === c).length);
  const classWeights = counts.map((n) => entries.length / (2 * Math.max(1, n)));

  // Histoscope: BatchLoader (sharp decode + resize, prefetch) -> trainStep (augment on device).
  const model = await Model.create({ trainable: 'layer4+fc', device: 'cpu' });
  const loader = new BatchLoader(entries, manifest.root, { batchSize, size: 224, shuffleSeed: 1, prefetch: 2, concurrency: 2 });
  const started = process.hrtime.bigint();
  let seen = 0;
  let step = 0;
  for await (const batch of loader) {
    await model.trainStep(batch, batch.labels, { classWeights, augment: { seed: step++ } });
    seen += batch.labels.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  model.dispose();
  const ours = { implementation: 'Histoscope (sharp decode + libtorch core)', images: seen, seconds, imagesPerSecond: seen / seconds };

  const list = path.join(os.tmpdir(), `histoscope-bench-files-${process.pid}.json`);
  fs.writeFileSync(list, JSON.stringify(entries.map((e, i) => ({ path: path.join(manifest.root, e.path), label: labels[i] }))));
  const runReference = (tuned: boolean): typeof ours | string => {
    const result = spawnSync(python, [path.join(__dirname, 'train_reference.py'), list, '--batch', String(batchSize),
      '--workers', workers, '--threads', String(getThreads())],
    { encoding: 'utf8', env: tuned ? { ...process.env, ...TUNED_MALLOC_ENV } : process.env });
    if (result.status !== 0) return `PyTorch reference did not run: ${(result.stderr || String(result.error)).trim().split('\n').pop()}`;
    const figures = JSON.parse(result.stdout.trim().split('\n').pop()!) as typeof ours;
    return tuned ? { ...figures, implementation: `${figures.implementation}, tuned malloc` } : figures;
  };
  const reference = runReference(false);
  const tuned = runReference(true);
  fs.rmSync(list, { force: true });

  console.log(`\none training epoch, ${seen} PNGs from ${data}, batch ${batchSize}, ${getThreads()} threads`);
  console.log(`${'pipeline'.padEnd(84)} ${'s'.padStart(7)} ${'img/s'.padStart(7)}`);
  const ratio = (r: typeof ours | string): number | null => (typeof r === 'string' ? null : ours.imagesPerSecond / r.imagesPerSecond);
  for (const r of [ours, reference, tuned]) {
    if (typeof r === 'string') console.log(r);
    else console.log(`${r.implementation.padEnd(84)} ${r.seconds.toFixed(1).padStart(7)} ${r.imagesPerSecond.toFixed(2).padStart(7)}`);
  }
  console.log(`ratio (Histoscope img/s / PyTorch img/s): ${ratio(reference)?.toFixed(2)}; against PyTorch with tuned malloc: ${ratio(tuned)?.toFixed(2)}`);
  const report = {
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores`, date: new Date().toISOString(),
    ours, pytorch: reference, pytorchTunedMalloc: tuned, ratio: ratio(reference), ratioTunedMalloc: ratio(tuned),
  };
  console.log(JSON.stringify(report));
  await writeJsonAtomic(path.join('bench', 'out', 'train.json'), report);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
