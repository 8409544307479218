// `npm run bench:train` (CPU) and `npm run bench:gpu` (CUDA): training epochs end to end on real
// size PNGs through Histoscope's own pipeline (the decoded-image cache, sharp decodes one per core,
// device-resident images after the first epoch, on-device augmentation, ResNet-50 layer4+fc Adam
// steps), beside a PyTorch reference written as lab users write it (bench/train_reference.py:
// Dataset with PIL, torchvision transforms, DataLoader with workers = cores, pin_memory,
// persistent workers, channels_last) on the same files, and PyTorch's own ceiling: the same train
// step on random data already on the device (bench/reference.py --resident). The cold epoch (PNG
// decodes) and the steady epochs are reported apart, with ratios measured in this one run.
//
// Options: --device cpu|cuda (cpu)  --epochs N (3)  --configs 32:fp32[,256:bf16] (CPU: 32:fp32;
//          CUDA: 32:fp32,256:bf16)  --images N (512)  --data DIR (default: synthetic 700x460
//          tiles in bench/out)  --workers W (cores)  --python PATH (/usr/bin/python3, or
//          $HISTOSCOPE_PYTHON)  --device-images auto|off (auto)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { BatchLoader, classIndex, DecodedCache, generateSynthetic, indexDataset, type ManifestEntry } from '../src/data';
import { getThreads, libtorchVersion, Model, type Precision } from '../src/native';
import { DeviceImages } from '../src/train/device-images';
import { trainBatches } from '../src/train/train-batches';
import { writeJsonAtomic } from '../src/util/atomic-write';
import { defaultDecodeConcurrency } from '../src/util/decode-threads';
import { TUNED_MALLOC_ENV } from './tuned-malloc';

interface EpochFigure {
  epoch: number;
  seconds: number;
  imagesPerSecond: number;
}

interface PipelineResult {
  implementation: string;
  epochs: EpochFigure[];
}

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const cold = (r: PipelineResult): number => r.epochs[0].imagesPerSecond;
function steady(r: PipelineResult): number | null {
  const rest = r.epochs.slice(1);
  if (rest.length === 0) return null;
  return rest.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / rest.reduce((s, e) => s + e.seconds, 0);
}

async function histoscopeEpochs(entries: ManifestEntry[], root: string, o: {
  batch: number; precision: Precision; device: string; epochs: number; deviceImages: boolean; cacheDir: string;
}): Promise<PipelineResult> {
  const labels = entries.map((e) => classIndex(e.cls));
  const counts = [0, 1].map((c) => labels.filter((l) => l === c).length);
  const classWeights = counts.map((n) => entries.length / (2 * Math.max(1, n)));
  const model = await Model.create({ trainable: 'layer4+fc', device: o.device, precision: o.precision });
  // A fresh decoded-image cache: the first epoch really decodes every PNG.
  const decodedCache = new DecodedCache({ dir: o.cacheDir });
  const loader = new BatchLoader(entries, root, {
    batchSize: o.batch, size: 224, shuffleSeed: 1, prefetch: 2, concurrency: defaultDecodeConcurrency(), decodedCache,
  });
  const images = o.deviceImages ? await DeviceImages.create(entries, 224, model.info().device) : undefined;
  const epochs: EpochFigure[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const started = process.hrtime.bigint();
      let seen = 0;
      let step = 0;
      for await (const batch of trainBatches(loader, epoch, images)) {
        await batch.step(model, { classWeights, augment: { seed: epoch * 100_000 + step++ } });
        seen += batch.labels.length;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      epochs.push({ epoch: epoch + 1, seconds, imagesPerSecond: seen / seconds });
    }
  } finally {
    images?.dispose();
    model.dispose();
    await decodedCache.close();
  }
  const where = images ? 'device-resident images after epoch 1' : 'decoded-image cache every epoch';
  return { implementation: `Histoscope (libtorch ${libtorchVersion()}, ${where})`, epochs };
}

// The Python references live in bench/, also when this file runs compiled from dist/bench/.
const PYTHON_DIR = fs.existsSync(path.join(__dirname, 'reference.py')) ? __dirname : path.resolve(__dirname, '..', '..', 'bench');

function runPython(python: string, script: string, args: string[], env: NodeJS.ProcessEnv): Record<string, unknown> | string {
  const result = spawnSync(python, [path.join(PYTHON_DIR, script), ...args], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (result.status !== 0) return `${script} did not run: ${(result.stderr || String(result.error)).trim().split('\n').pop()}`;
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const device = argument('device', 'cpu');
  const epochs = Number(argument('epochs', '3'));
  const configs = argument('configs', device.startsWith('cuda') ? '32:fp32,256:bf16' : '32:fp32').split(',').map((c) => {
    const [batch, precision] = c.split(':');
    return { batch: Number(batch), precision: (precision ?? 'fp32') as Precision };
  });
  const imageCount = Number(argument('images', '512'));
  const workers = argument('workers', String(os.availableParallelism()));
  const python = argument('python', process.env.HISTOSCOPE_PYTHON ?? '/usr/bin/python3');
  const deviceImages = argument('device-images', 'auto') !== 'off';
  let data = argument('data', '');
  if (!data) {
    data = path.join('bench', 'out', 'train-data');
    // 16 patients x 8 tiles x 4 magnifications = 512 real-size PNGs, made once.
    if (!fs.existsSync(data)) await generateSynthetic(data, { patients: 16, imagesPerPatient: 8, seed: 7 });
  }
  const manifest = await indexDataset(data, { verify: false });
  const entries = manifest.entries.slice(0, imageCount);
  const list = path.join(os.tmpdir(), `histoscope-bench-files-${process.pid}.json`);
  fs.writeFileSync(list, JSON.stringify(entries.map((e) => ({ path: path.join(manifest.root, e.path), label: classIndex(e.cls) }))));
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores; ${device}; libtorch ${libtorchVersion()}`;
  const rows: Record<string, unknown>[] = [];
  try {
    for (const c of configs) {
      if (entries.length < c.batch) throw new Error(`${data} holds only ${entries.length} images; batch ${c.batch} needs more (--images).`);
      const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-bench-cache-'));
      const ours = await histoscopeEpochs(entries, manifest.root, { ...c, device, epochs, deviceImages, cacheDir });
      fs.rmSync(cacheDir, { recursive: true, force: true });
      const referenceArgs = [list, '--batch', String(c.batch), '--workers', workers, '--threads', String(getThreads()),
        '--device', device, '--precision', c.precision, '--epochs', String(epochs)];
      const asRun = runPython(python, 'train_reference.py', referenceArgs, process.env);
      const tunedRun = device === 'cpu' ? runPython(python, 'train_reference.py', referenceArgs, { ...process.env, ...TUNED_MALLOC_ENV }) : null;
      const tuned = tunedRun && typeof tunedRun !== 'string' ? { ...tunedRun, implementation: `${String(tunedRun.implementation)}, tuned malloc` } : tunedRun;
      const ceiling = runPython(python, 'reference.py', ['--device', device, '--precision', c.precision, '--batch', String(c.batch),
        '--threads', String(getThreads()), '--resident', '--train-only', '--iterations', device === 'cpu' ? '3' : '30'], process.env);
      rows.push({ config: `b${c.batch} ${c.precision}`, ours, pytorch: asRun, pytorchTunedMalloc: tuned, ceiling });
    }
  } finally {
    fs.rmSync(list, { force: true });
  }

  console.log(`\nTraining epochs end to end, ${entries.length} PNGs from ${data}; ${machine}`);
  const fmt = (v: number | null | undefined): string => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(1));
  const header = `${'config'.padEnd(11)} ${'pipeline'.padEnd(70)} ${'cold img/s'.padStart(10)} ${'steady img/s'.padStart(12)}`;
  console.log(header);
  for (const row of rows) {
    const ours = row.ours as PipelineResult;
    const lines: [string, PipelineResult | string | null][] = [['', ours], ['', row.pytorch as PipelineResult | string],
      ['', row.pytorchTunedMalloc as PipelineResult | string | null]];
    for (const [, r] of lines) {
      if (r === null) continue;
      if (typeof r === 'string') console.log(`${String(row.config).padEnd(11)} ${r}`);
      else console.log(`${String(row.config).padEnd(11)} ${r.implementation.slice(0, 70).padEnd(70)} ${fmt(cold(r)).padStart(10)} ${fmt(steady(r)).padStart(12)}`);
    }
    const ceiling = typeof row.ceiling === 'string' ? null : Number((row.ceiling as Record<string, unknown>).trainImagesPerSecond);
    console.log(`${String(row.config).padEnd(11)} ${'ceiling: PyTorch train step on random data already on the device'.padEnd(70)} ${''.padStart(10)} ${fmt(ceiling).padStart(12)}`);
    const ratio = (r: unknown, f: (p: PipelineResult) => number | null): number | null => {
      if (!r || typeof r === 'string') return null;
      const theirs = f(r as PipelineResult);
      const mine = f(ours);
      return theirs && mine ? mine / theirs : null;
    };
    const figures = {
      coldVsPytorch: ratio(row.pytorch, cold), steadyVsPytorch: ratio(row.pytorch, steady),
      coldVsTuned: ratio(row.pytorchTunedMalloc, cold), steadyVsTuned: ratio(row.pytorchTunedMalloc, steady),
      steadyOfCeiling: ceiling ? (steady(ours) ?? 0) / ceiling : null,
      allEpochsVsPytorch: ratio(row.pytorch, (p) => p.epochs.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / p.epochs.reduce((s, e) => s + e.seconds, 0)),
      allEpochsVsTuned: ratio(row.pytorchTunedMalloc, (p) => p.epochs.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / p.epochs.reduce((s, e) => s + e.seconds, 0)),
    };
    Object.assign(row, { ratios: figures });
    console.log(`${String(row.config).padEnd(11)} ratios (> 1 = Histoscope faster): cold ${fmt(figures.coldVsPytorch)}, steady ${fmt(figures.steadyVsPytorch)}, ` +
      `all ${epochs} epochs ${fmt(figures.allEpochsVsPytorch)} vs PyTorch as run` +
      (figures.coldVsTuned !== null ? `; cold ${fmt(figures.coldVsTuned)}, steady ${fmt(figures.steadyVsTuned)}, all ${fmt(figures.allEpochsVsTuned)} vs tuned malloc` : '') +
      `; steady = ${figures.steadyOfCeiling === null ? '–' : `${(100 * figures.steadyOfCeiling).toFixed(0)}%`} of the ceiling`);
  }
  const report = { machine, date: new Date().toISOString(), images: entries.length, epochs, rows };
  console.log(JSON.stringify(report));
  await writeJsonAtomic(path.join('bench', 'out', `train-${device.replace(':', '')}.json`), report);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
