// `npm run bench:gallery`: what the Grad-CAM gallery adds to a training run. Trains one small run
// without a gallery (the baseline: the whole run's time), then evaluates that run without and with
// the gallery in turn (off, on, off, on, …: the gallery is written by the evaluation only, and
// alternating spreads a shared machine's load drift over both), and reports the gallery's own
// seconds (its event) and bytes. Then, on the run's best checkpoint, the gallery's images through
// one batched Grad-CAM call against one call per image: why the gallery uses Model.gradcamBatch.
//
// Options: --data DIR (default: 24 synthetic patients at 100X, 140x92, in bench/out)
//          --mag M (100X)  --image-size PX (64)  --epochs N (1)  --repeats N (2)  --device D (cpu)
import * as fs from 'node:fs';
import * as path from 'node:path';

import { decodeImage, generateSynthetic } from '../src/data';
import { Model } from '../src/native';
import { evaluateRun, GALLERY_DIR, loadRunData, readRunConfig, trainRun, type GalleryIndex, type TrainMagnification } from '../src/train';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

function folderBytes(dir: string): number {
  let bytes = 0;
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const stat = fs.statSync(path.join(dir, f));
    if (stat.isFile()) bytes += stat.size;
  }
  return bytes;
}

async function syntheticData(out: string): Promise<string> {
  const dir = path.join(out, 'gallery-data');
  if (!fs.existsSync(path.join(dir, 'synth.json'))) {
    await generateSynthetic(dir, { patients: 24, imagesPerPatient: 5, width: 140, height: 92, seed: 5, magnifications: ['100X'] });
  }
  return dir;
}

/** The gallery's images mapped in one batched call, then one call each, on the run's best model. */
async function batchedAgainstSingle(runDir: string): Promise<{ images: number; batched: number; single: number }> {
  const config = readRunConfig(runDir);
  const root = loadRunData(runDir, config).manifest.root;
  const index = JSON.parse(fs.readFileSync(path.join(runDir, GALLERY_DIR, 'gallery.json'), 'utf8')) as GalleryIndex;
  const paths = [...new Set([...index.sample, ...index.topLosses].map((i) => i.path))];
  const images = await Promise.all(paths.map((p) => decodeImage(path.join(root, p), { size: config.imageSize, fit: 'fill' })));
  const side = config.imageSize;
  const data = new Uint8Array(images.length * side * side * 3);
  images.forEach((im, k) => data.set(im.data, k * im.data.length));
  const { model } = await Model.load(path.join(runDir, 'best.pt'), { device: config.device });
  try {
    let t = performance.now();
    await model.gradcamBatch({ data, shape: [images.length, side, side, 3] });
    const batched = (performance.now() - t) / 1000;
    t = performance.now();
    for (const im of images) await model.gradcam({ data: im.data, shape: [1, side, side, 3] });
    return { images: images.length, batched, single: (performance.now() - t) / 1000 };
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const out = path.join(__dirname, 'out');
  const data = process.argv.includes('--data') ? argument('data', '') : await syntheticData(out);
  const repeats = Number(argument('repeats', '2'));
  const base = {
    data, runsDir: path.join(out, 'gallery-runs'), magnification: argument('mag', '100X') as TrainMagnification, weights: 'none',
    imageSize: Number(argument('image-size', '64')), batchSize: 8, perClass: null, maxEpochs: Number(argument('epochs', '1')),
    device: argument('device', 'cpu'), seed: 1, splitFractions: { train: 0.5, val: 0.25, test: 0.25 },
  };
  // The baseline: a whole run without a gallery (training plus evaluation).
  let t = performance.now();
  const run = await trainRun({ ...base, gallery: null });
  const runSeconds = (performance.now() - t) / 1000;
  process.stderr.write(`run without gallery: ${runSeconds.toFixed(1)} s (${run.runDir})\n`);
  // The gallery is written by the evaluation only: evaluate the same run without and with it, in turn.
  const rows: { gallery: boolean; seconds: number; gallerySeconds: number | null }[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const on of [false, true]) {
      let gallerySeconds: number | null = null;
      t = performance.now();
      if (on) {
        // The run's recipe says no gallery; write one with the default plan as `histoscope evaluate` would for a default run.
        const config = path.join(run.runDir, 'config.json');
        const saved = fs.readFileSync(config, 'utf8');
        fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(saved), gallery: undefined }));
        try {
          await evaluateRun(run.runDir, { onEvent: (e) => { if (e.event === 'gallery') gallerySeconds = e.seconds; } });
        } finally {
          fs.writeFileSync(config, saved);
        }
      } else {
        await evaluateRun(run.runDir);
      }
      rows.push({ gallery: on, seconds: (performance.now() - t) / 1000, gallerySeconds });
      process.stderr.write(`evaluate, gallery ${on ? 'on ' : 'off'}: ${rows[rows.length - 1].seconds.toFixed(1)} s\n`);
    }
  }
  const bytes = folderBytes(path.join(run.runDir, GALLERY_DIR));
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const off = mean(rows.filter((r) => !r.gallery).map((r) => r.seconds));
  const on = mean(rows.filter((r) => r.gallery).map((r) => r.seconds));
  const own = mean(rows.filter((r) => r.gallery).map((r) => r.gallerySeconds ?? 0));
  const calls = await batchedAgainstSingle(run.runDir);
  const summary = { config: { ...base, repeats }, runSeconds, rows, bytes, meanSeconds: { evaluateOff: off, evaluateOn: on, galleryEvent: own }, gradcam: calls };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  process.stdout.write(`| | seconds |\n|---|---|\n| whole run without gallery (train + evaluate) | ${runSeconds.toFixed(1)} |\n` +
    `| evaluate without gallery (mean of ${repeats}) | ${off.toFixed(1)} |\n| evaluate with gallery | ${on.toFixed(1)} |\n` +
    `| the gallery's own time (its event) | ${own.toFixed(1)} |\n| Grad-CAM of its ${calls.images} images, one batched call | ${calls.batched.toFixed(2)} |\n` +
    `| the same, one call per image | ${calls.single.toFixed(2)} |\n\ngallery: ${(bytes / 1024).toFixed(0)} KiB\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
