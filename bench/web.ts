// Measures what people and scripts wait for: p50/p95 latency of POST /api/predict with and without
// Grad-CAM (one client at a time, 700×460 BreakHis-sized PNGs, a 224 px ResNet-50), and batch
// `predict` throughput in images/s. Not a test: numbers depend on the machine and its load.
// Run: node --import tsx bench/web.ts [--requests 30] [--images 64]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { formatBreakhisName, renderSyntheticPng, syntheticPatients } from '../src/data';
import { ModelRegistry, predictFiles } from '../src/infer';
import { getThreads } from '../src/native';
import { installModel, tmpDir } from '../test/infer/model-fixture';
import { listen } from '../test/web/http-helpers';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function percentile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

async function main(): Promise<void> {
  const requests = arg('requests', 30);
  const imageCount = arg('images', 64);
  const modelsDir = tmpDir('bench-models');
  await installModel(modelsDir, '100X', { imageSize: 224 });
  const registry = new ModelRegistry({ modelsDir });
  await registry.get('100X');

  const patients = syntheticPatients(8, 5);
  const imagesDir = tmpDir('bench-images');
  const files: string[] = [];
  for (let i = 0; i < imageCount; i++) {
    const p = patients[i % patients.length];
    const file = path.join(imagesDir, formatBreakhisName({ cls: p.cls, subtype: p.subtype, patient: p.patient, magnification: '100X', sequence: i + 1 }));
    fs.writeFileSync(file, await renderSyntheticPng(p, '100X', i + 1, 700, 460, 5));
    files.push(file);
  }

  const server = await listen({ registry });
  const results: Record<string, unknown> = {
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    torchThreads: getThreads(),
  };
  for (const gradcam of [false, true]) {
    const times: number[] = [];
    for (let i = -3; i < requests; i++) {
      const body = fs.readFileSync(files[(i + files.length) % files.length]);
      const t = performance.now();
      const res = await fetch(`${server.url}/api/predict?mag=100X${gradcam ? '&gradcam=1' : ''}`, { method: 'POST', body, headers: { 'content-type': 'image/png' } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`POST /api/predict answered ${res.status}`);
      if (i >= 0) times.push(performance.now() - t); // the first three warm caches
    }
    times.sort((a, b) => a - b);
    results[gradcam ? 'predictWithGradcamMs' : 'predictMs'] = { n: times.length, p50: +percentile(times, 0.5).toFixed(1), p95: +percentile(times, 0.95).toFixed(1) };
    console.log(gradcam ? 'with Grad-CAM' : 'without Grad-CAM', results[gradcam ? 'predictWithGradcamMs' : 'predictMs']);
  }
  await server.close();

  for (const [key, batchSize, tta] of [['batchPredict', undefined, false], ['batchPredictBatch32', 32, false], ['batchPredictTta', undefined, true]] as const) {
    const inputs = tta ? files.slice(0, Math.max(8, imageCount / 8)) : files;
    const run = await predictFiles({ inputs, registry, batchSize, tta });
    results[key] = { images: run.summary.predicted, seconds: +run.summary.seconds.toFixed(2), imagesPerSecond: +run.summary.imagesPerSecond.toFixed(2) };
    console.log(key, results[key]);
  }
  registry.dispose();
  const out = path.resolve(__dirname, 'out', 'web.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
