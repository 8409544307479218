// Measures what people and scripts wait for: p50/p95 latency of POST /api/predict with and without
// Grad-CAM (one client at a time, 700×460 BreakHis-sized PNGs, a 224 px ResNet-50), throughput and
// p50/p95 with 16 clients at once, and batch `predict` throughput in images/s against the speed of
// inference alone on already decoded images (what decoding costs when it does not overlap).
// Not a test: numbers depend on the machine and its load. Uses only APIs that the previous
// release has too, so the same script measures a baseline checkout (run it there with --label).
// Run: node --import tsx bench/web.ts [--requests 30] [--images 64] [--clients 16] [--label after]
//      [--concurrency N: the server's analyses at once, default its own] [--web-only: skip batch predict]
//      [--batch-only: only batch predict against inference alone]
//      HISTOSCOPE_THREADS=1 on a 2-core machine leaves decoding a core of its own, as a GPU server
//      does: batch predict's share of inference alone then measures the pipeline, not core sharing.
//      [--device auto|cpu|cuda (auto: CUDA when there is one, as `histoscope serve`)]
//      [--precision fp32|bf16: run the model in it (`serve --precision`); default: as trained, fp32]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { formatBreakhisName, renderSyntheticPng, syntheticPatients } from '../src/data';
import { decodeForModel, type LoadedModel, ModelRegistry, predictFiles, predictImages } from '../src/infer';
import { getThreads, type Precision } from '../src/native';
import { installModel, tmpDir } from '../test/infer/model-fixture';
import { listen } from '../test/web/http-helpers';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

const summary = (times: number[]): { n: number; p50: number; p95: number } => {
  const sorted = [...times].sort((a, b) => a - b);
  return { n: sorted.length, p50: +percentile(sorted, 0.5).toFixed(1), p95: +percentile(sorted, 0.95).toFixed(1) };
};

async function post(url: string, body: Buffer, gradcam: boolean, allowRefusal = false): Promise<number | undefined> {
  const t = performance.now();
  const res = await fetch(`${url}/api/predict?mag=100X${gradcam ? '&gradcam=1' : ''}`, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
  await res.arrayBuffer();
  if (res.status !== 200 && allowRefusal) return undefined; // 429 (queue full) or 503 (past the deadline)
  if (res.status !== 200) throw new Error(`POST /api/predict answered ${res.status}`);
  return performance.now() - t;
}

/** `clients` loops posting back to back until `total` requests are done. */
async function concurrent(url: string, files: string[], gradcam: boolean, clients: number, total: number): Promise<Record<string, number>> {
  const bodies = files.map((f) => fs.readFileSync(f));
  let next = 0;
  const times: number[] = [];
  let refused = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < total) {
      const i = next++;
      const t = await post(url, bodies[i % bodies.length], gradcam, true);
      if (t === undefined) refused++;
      else times.push(t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  // Throughput counts answered requests only; refused ones (429/503) are reported beside it.
  return { clients, ...summary(times), refused, requestsPerSecond: +(times.length / seconds).toFixed(2) };
}

/**
 * `predict` with decoding overlapped with inference or not, alternated in one process so that
 * both see the same machine load (rounds of off, on).
 */
async function overlapAB(registry: ModelRegistry, files: string[], results: Record<string, unknown>): Promise<void> {
  const rates: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let round = 0; round < 2; round++) {
    for (const mode of ['off', 'on'] as const) {
      const run = await predictFiles({ inputs: files, registry, batchSize: 8, decodeCache: 'off', overlapDecode: mode === 'on' });
      rates[mode].push(+run.summary.imagesPerSecond.toFixed(2));
    }
  }
  const key = 'batchPredictOverlapDecode';
  results[key] = rates;
  console.log(key, rates);
}

async function main(): Promise<void> {
  const requests = Number(arg('requests', '30'));
  const imageCount = Number(arg('images', '64'));
  const clients = Number(arg('clients', '16'));
  const label = arg('label', 'current');
  const modelsDir = tmpDir('bench-models');
  await installModel(modelsDir, '100X', { imageSize: 224 });
  const device = arg('device', 'auto');
  const precision = process.argv.includes('--precision') ? arg('precision', 'fp32') as Precision : undefined;
  const registry = new ModelRegistry({ modelsDir, device, precision });
  const loaded = await registry.get('100X');

  const patients = syntheticPatients(8, 5);
  const imagesDir = tmpDir('bench-images');
  const files: string[] = [];
  for (let i = 0; i < imageCount; i++) {
    const p = patients[i % patients.length];
    const file = path.join(imagesDir, formatBreakhisName({ cls: p.cls, subtype: p.subtype, patient: p.patient, magnification: '100X', sequence: i + 1 }));
    fs.writeFileSync(file, await renderSyntheticPng(p, '100X', i + 1, 700, 460, 5));
    files.push(file);
  }

  const results: Record<string, unknown> = {
    label,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    torchThreads: getThreads(),
    device: loaded.model.info().device,
    precision: loaded.precision,
  };
  if (process.argv.includes('--overlap-only')) {
    await overlapAB(registry, files, results);
    registry.dispose();
    return;
  }
  const concurrency = process.argv.includes('--concurrency') ? { concurrency: Number(arg('concurrency', '8')) } : {};
  const show = (key: string, value: unknown): void => {
    results[key] = value;
    console.log(key, value);
  };
  if (!process.argv.includes('--batch-only')) await webRows(registry, files, requests, clients, concurrency, show);
  if (!process.argv.includes('--web-only')) await batchRows(registry, loaded, files, imageCount, show, results);
  registry.dispose();
  const out = path.resolve(__dirname, 'out', `web-${label.replace(/[^\w-]+/g, '_')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

/** Latency at one client, then throughput and latency at `clients` at once, through the HTTP API. */
async function webRows(registry: ModelRegistry, files: string[], requests: number, clients: number, concurrency: { concurrency?: number },
  show: (key: string, value: unknown) => void): Promise<void> {
  const server = await listen({ registry, ...concurrency });
  for (const gradcam of [false, true]) {
    const times: number[] = [];
    for (let i = -3; i < requests; i++) {
      const t = (await post(server.url, fs.readFileSync(files[(i + files.length) % files.length]), gradcam))!;
      if (i >= 0) times.push(t); // the first three warm caches
    }
    show(gradcam ? 'predictWithGradcamMs' : 'predictMs', summary(times));
  }
  for (const gradcam of [false, true]) {
    show(gradcam ? 'concurrentPredictWithGradcam' : 'concurrentPredict', await concurrent(server.url, files, gradcam, clients, Math.max(clients * 3, requests)));
  }
  await server.close();
}

/** Batch `predict` against inference alone on the same images, decoded beforehand. */
async function batchRows(registry: ModelRegistry, loaded: LoadedModel, files: string[], imageCount: number,
  show: (key: string, value: unknown) => void, results: Record<string, unknown>): Promise<void> {

  // Inference alone: the same images already decoded, in the batch sizes predict uses.
  const decoded = await Promise.all(files.map((f) => decodeForModel(loaded, f)));
  for (const batchSize of [8, 32]) {
    await predictImages(loaded, decoded.slice(0, batchSize), { batchSize }); // warm-up
    const t = performance.now();
    await predictImages(loaded, decoded, { batchSize });
    const seconds = (performance.now() - t) / 1000;
    show(`inferenceOnlyBatch${batchSize}`, { images: decoded.length, seconds: +seconds.toFixed(2), imagesPerSecond: +(decoded.length / seconds).toFixed(2) });
  }
  // Decoding for real (no persistent cache), as for images a script has never seen.
  for (const [key, batchSize, tta] of [['batchPredict', 8, false], ['batchPredictBatch32', 32, false], ['batchPredictTta', undefined, true]] as const) {
    const inputs = tta ? files.slice(0, Math.max(8, imageCount / 8)) : files;
    const run = await predictFiles({ inputs, registry, batchSize, tta, decodeCache: 'off' });
    const value: Record<string, number> = { images: run.summary.predicted, seconds: +run.summary.seconds.toFixed(2), imagesPerSecond: +run.summary.imagesPerSecond.toFixed(2) };
    const alone = results[`inferenceOnlyBatch${batchSize}`] as { imagesPerSecond: number } | undefined;
    if (alone) value.shareOfInferenceOnly = +(run.summary.imagesPerSecond / alone.imagesPerSecond).toFixed(3);
    show(key, value);
  }
  await overlapAB(registry, files, results);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
