// Cost per image of stain normalisation (Macenko, Reinhard) and HED jitter at the model's input
// size, through the addon on the given device, beside the numpy reference of the tests
// (test/stain/numpy-stain-reference.py maths, per image, float64) in the same run.
//   node --import tsx bench/stain.ts [--device cpu|cuda] [--batch 16] [--repeats 3] [--data DIR]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage, listFiles } from '../src/data';
import { fitStainTarget, jitterHed, normalizeStain, type ImageBatch } from '../src/native';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const device = flag('device', 'cpu');
const batchSize = Number(flag('batch', '16'));
const repeats = Number(flag('repeats', '3'));
const data = flag('data', path.resolve(__dirname, '..', '..', 'shared', 'data', 'breakhis-sample'));
const SIZE = 224;

async function batchOf(): Promise<ImageBatch> {
  const files = (await listFiles(data)).filter((f) => f.endsWith('.png')).sort().slice(0, batchSize);
  if (files.length === 0) throw new Error(`No PNG images in ${data}; pass --data DIR.`);
  const pixels = new Uint8Array(batchSize * SIZE * SIZE * 3);
  for (let i = 0; i < batchSize; i++) pixels.set((await decodeImage(path.join(data, files[i % files.length]), { size: SIZE, fit: 'fill' })).data, i * SIZE * SIZE * 3);
  return { data: pixels, shape: [batchSize, SIZE, SIZE, 3] };
}

async function msPerImage(fn: () => Promise<unknown>): Promise<number> {
  await fn();  // warm-up
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    await fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6 / batchSize);
  }
  return best;
}

const NUMPY = `
import importlib.util, sys, time
import numpy as np
spec = importlib.util.spec_from_file_location("ref", sys.argv[1]); ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)
n, size = int(sys.argv[2]), int(sys.argv[3])
px = np.fromfile(sys.argv[4], dtype=np.uint8).reshape(n, size * size, 3).astype(np.float64) / 255
he, mx, _, _ = ref.macenko_fit(px[0]); lab = ref.rgb2lab(px[0]); mean, std = lab.mean(0), lab.std(0)
for name, fn in [("macenko", lambda x: ref.macenko_apply(x, he, mx)), ("reinhard", lambda x: ref.reinhard_apply(x, mean, std))]:
    best = 1e9
    for r in range(${repeats}):
        t0 = time.perf_counter()
        for i in range(n): fn(px[i])
        best = min(best, (time.perf_counter() - t0) * 1000 / n)
    print(name, best)
`;

async function main(): Promise<void> {
  const batch = await batchOf();
  const macenko = await fitStainTarget('macenko', { data: batch.data.subarray(0, SIZE * SIZE * 3), shape: [1, SIZE, SIZE, 3] }, { device });
  const reinhard = await fitStainTarget('reinhard', { data: batch.data.subarray(0, SIZE * SIZE * 3), shape: [1, SIZE, SIZE, 3] }, { device });
  const rows: Record<string, number> = {
    macenko: await msPerImage(() => normalizeStain(batch, macenko, { device })),
    reinhard: await msPerImage(() => normalizeStain(batch, reinhard, { device })),
    hedJitter: await msPerImage(() => jitterHed(batch, 0.05, 1, { device })),
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-stain-bench-'));
  fs.writeFileSync(path.join(dir, 'px.u8'), batch.data);
  fs.writeFileSync(path.join(dir, 'bench.py'), NUMPY);
  const py = spawnSync(process.env.HISTOSCOPE_PYTHON ?? '/usr/bin/python3',
    [path.join(dir, 'bench.py'), path.resolve(__dirname, '..', 'test', 'stain', 'numpy-stain-reference.py'), String(batchSize), String(SIZE), path.join(dir, 'px.u8')], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  const numpy = Object.fromEntries(py.stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  process.stdout.write(`Stain work per ${SIZE}x${SIZE} image, ${device}, batch ${batchSize}, best of ${repeats} (includes the host<->device copies of the pixels)\n`);
  process.stdout.write('| step | Histoscope ms/image | numpy ms/image (float64, per image) |\n|---|---:|---:|\n');
  for (const [k, v] of Object.entries(rows)) process.stdout.write(`| ${k} | ${v.toFixed(2)} | ${numpy[k] === undefined ? '—' : numpy[k].toFixed(2)} |\n`);
  if (py.status !== 0) process.stdout.write(`(numpy reference did not run: ${py.stderr.trim().split('\n').pop()})\n`);
}

void main();
