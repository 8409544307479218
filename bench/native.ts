// `npm run bench:native`: img/s of a train step (layer4+fc, batch 32), inference (batch 32 and 1)
// and Grad-CAM latency through the addon (inference and Grad-CAM again "as served": BatchNorm
// folded and, fp32 on CPU, weights packed for oneDNN), and the same figures from the PyTorch
// (Python) reference (bench/reference.py, which serves its copy the same way) in the same run,
// with the ratio ours / PyTorch. Prints a table and JSON.
//
// Options: --iterations N (5) --precision fp32[,bf16] --device cpu|cuda --python PATH --out FILE
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { getThreads, libtorchVersion, Model } from '../src/native';
import { writeJsonAtomic } from '../src/util/atomic-write';
import { tmpDir } from '../test/helpers/tmp-dir';
import { TUNED_MALLOC_ENV } from './tuned-malloc';

interface Figures {
  implementation: string;
  threads: number;
  trainImagesPerSecond: number;
  inferImagesPerSecond: number;
  inferBatch1ImagesPerSecond: number;
  gradcamMilliseconds: number;
  /** The same as models are served: BatchNorm folded; fp32 on CPU, weights packed for oneDNN. */
  foldedInferImagesPerSecond: number;
  foldedInferBatch1ImagesPerSecond: number;
  foldedGradcamMilliseconds: number;
}

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function timed(fn: () => Promise<unknown>, iterations: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1e9 / iterations;
}

function randomPixels(count: number, seed: number): Uint8Array {
  const data = new Uint8Array(count * 224 * 224 * 3);
  let state = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state >>> 24;
  }
  return data;
}

type Batch = { data: Uint8Array; shape: readonly [number, number, number, number] };

/** Seconds per call: inference at batch 32 and at batch 1, and one Grad-CAM. */
async function inferenceTimes(model: Model, batch: Batch, single: Batch, iterations: number): Promise<[number, number, number]> {
  return [await timed(() => model.predict(batch), iterations, 2), await timed(() => model.predict(single), iterations * 4, 2),
    await timed(() => model.gradcam(single), iterations * 4, 2)];
}

async function measureOurs(precision: 'fp32' | 'bf16', device: string, iterations: number): Promise<Figures> {
  const batchSize = 32;
  const model = await Model.create({ precision, device, trainable: 'layer4+fc' });
  try {
    const batch: Batch = { data: randomPixels(batchSize, 1), shape: [batchSize, 224, 224, 3] };
    const single: Batch = { data: batch.data.subarray(0, 224 * 224 * 3), shape: [1, 224, 224, 3] };
    const labels = Array.from({ length: batchSize }, (_, i) => i % 2);
    let step = 0;
    const train = await timed(() => model.trainStep(batch, labels, {
      classWeights: [1.5, 0.75],
      augment: { seed: step++, horizontalFlip: true, verticalFlip: true, rightAngleRotation: true },
    }), iterations, 2);
    const [infer, infer1, cam] = await inferenceTimes(model, batch, single, iterations);
    // As the registry serves it: the same weights loaded back for inference only.
    const file = path.join(tmpDir('bench-native'), 'model.pt');
    await model.save(file);
    const { model: served } = await Model.load(file, { device, precision, inferenceOnly: true });
    let folded: [number, number, number];
    try {
      folded = await inferenceTimes(served, batch, single, iterations);
    } finally {
      served.dispose();
    }
    return {
      implementation: `Histoscope (libtorch ${libtorchVersion()}, ${model.info().device})`,
      threads: getThreads(),
      trainImagesPerSecond: batchSize / train,
      inferImagesPerSecond: batchSize / infer,
      inferBatch1ImagesPerSecond: 1 / infer1,
      gradcamMilliseconds: cam * 1000,
      foldedInferImagesPerSecond: batchSize / folded[0],
      foldedInferBatch1ImagesPerSecond: 1 / folded[1],
      foldedGradcamMilliseconds: folded[2] * 1000,
    };
  } finally {
    model.dispose();
  }
}

function measurePyTorch(python: string, precision: string, device: string, iterations: number, tuned: boolean): Figures | string {
  const env = tuned ? { ...process.env, ...TUNED_MALLOC_ENV } : process.env;
  const result = spawnSync(python, [path.join(__dirname, 'reference.py'), '--device', device, '--precision', precision,
    '--iterations', String(iterations), '--threads', String(getThreads())], { encoding: 'utf8', env });
  if (result.status !== 0) return `PyTorch reference did not run (${python}): ${(result.stderr || String(result.error)).trim().split('\n').pop()}`;
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as Figures;
}

const METRICS: [keyof Figures, string, boolean][] = [
  ['trainImagesPerSecond', 'train step, layer4+fc, batch 32 (img/s)', true],
  ['inferImagesPerSecond', 'inference, batch 32 (img/s)', true],
  ['inferBatch1ImagesPerSecond', 'inference, batch 1 (img/s)', true],
  ['gradcamMilliseconds', 'Grad-CAM, one 224x224 image (ms)', false],
  ['foldedInferImagesPerSecond', 'as served: inference, b32 (img/s)', true],
  ['foldedInferBatch1ImagesPerSecond', 'as served: inference, b1 (img/s)', true],
  ['foldedGradcamMilliseconds', 'as served: Grad-CAM (ms)', false],
];

async function main(): Promise<void> {
  const iterations = Number(argument('iterations', '5'));
  const device = argument('device', 'cpu');
  const python = argument('python', '/usr/bin/python3');
  const out = argument('out', path.join('bench', 'out', `native-${device}.json`));
  const report: Record<string, unknown> = {
    machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    date: new Date().toISOString(),
    runs: [] as unknown[],
  };
  for (const precision of argument('precision', 'fp32').split(',') as ('fp32' | 'bf16')[]) {
    const ours = await measureOurs(precision, device, iterations);
    const reference = measurePyTorch(python, precision, device, iterations, false);
    const tuned = measurePyTorch(python, precision, device, iterations, true);
    console.log(`\n${precision} on ${device} (${ours.threads} threads, ${iterations} timed iterations; ratio > 1: Histoscope faster)`);
    console.log(`${'measure'.padEnd(42)} ${'Histoscope'.padStart(11)} ${'PyTorch'.padStart(9)} ${'ratio'.padStart(7)} ` +
      `${'PyTorch, tuned malloc'.padStart(22)} ${'ratio'.padStart(7)}`);
    const ratios: Record<string, number> = {};
    const tunedRatios: Record<string, number> = {};
    const value = (f: Figures | string, key: keyof Figures): number => (typeof f === 'string' ? NaN : (f[key] as number));
    for (const [key, label, higherIsBetter] of METRICS) {
      const a = ours[key] as number;
      const [b, c] = [value(reference, key), value(tuned, key)];
      ratios[key] = higherIsBetter ? a / b : b / a;
      tunedRatios[key] = higherIsBetter ? a / c : c / a;
      console.log(`${label.padEnd(42)} ${a.toFixed(2).padStart(11)} ${b.toFixed(2).padStart(9)} ${ratios[key].toFixed(2).padStart(7)} ` +
        `${c.toFixed(2).padStart(22)} ${tunedRatios[key].toFixed(2).padStart(7)}`);
    }
    for (const r of [reference, tuned]) if (typeof r === 'string') console.log(r);
    (report.runs as unknown[]).push({ precision, device, ours, pytorch: reference, pytorchTunedMalloc: tuned, speedRatio: ratios, speedRatioTunedMalloc: tunedRatios });
  }
  console.log(JSON.stringify(report));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await writeJsonAtomic(out, report);
}

main().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 1;
});
