// `node --import tsx bench/trust.ts [--data DIR] [--images N] [--iterations N]`: what the trust
// features cost per image on this machine, each beside its baseline in the same run:
//   out-of-distribution warnings (src/data/ood/) against the decode they follow, on real images
//     (default: the BreakHis sample beside the checkout, or HISTOSCOPE_SAMPLE_DIR) and on a
//     transparent PNG (the only case that reads the image a second time);
//   Grad-CAM++ against Grad-CAM, and the faithfulness score (4 × 11 forward passes) against one
//     prediction, with a randomly initialised ResNet-50 at 224 px (speed does not depend on weights).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { decodeImage, imageWarnings, listFiles, BREAKHIS_IMAGE_SIZE } from '../src/data';
import { faithfulness, modelClassProbability } from '../src/eval';
import { Model } from '../src/native';
import { transparentPng } from '../test/helpers/ood-images';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const data = argument('data', process.env.HISTOSCOPE_SAMPLE_DIR ?? path.resolve(__dirname, '../../shared/data/breakhis-sample'));
  const count = Number(argument('images', '60'));
  const iterations = Number(argument('iterations', '5'));
  const training = { ...BREAKHIS_IMAGE_SIZE, model: 'the bench model' };
  const results: Record<string, number> = {};

  if (fs.existsSync(data)) {
    const files = (await listFiles(data)).filter((f) => /\.png$/i.test(f)).slice(0, count).map((f) => path.join(data, f));
    let decodeMs = 0;
    let warnMs = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      let t = now();
      const pixels = await decodeImage(bytes, { size: 224, fit: 'fill' });
      decodeMs += now() - t;
      t = now();
      await imageWarnings(bytes, pixels, { training });
      warnMs += now() - t;
    }
    results.decodeMsPerImage = decodeMs / files.length;
    results.warningsMsPerImage = warnMs / files.length;
    console.log(`OOD warnings: ${results.warningsMsPerImage.toFixed(2)} ms/image against ${results.decodeMsPerImage.toFixed(2)} ms to decode it (${files.length} real images)`);
  } else {
    console.log(`(no real images at ${data}: OOD timing on real images skipped)`);
  }
  const clear = await transparentPng();
  const clearPixels = await decodeImage(clear, { size: 224 });
  let t = now();
  for (let i = 0; i < 10; i++) await imageWarnings(clear, clearPixels, { training });
  results.transparentWarningsMs = (now() - t) / 10;
  console.log(`OOD warnings on a 700×460 RGBA PNG (alpha read again): ${results.transparentWarningsMs.toFixed(2)} ms/image`);

  const model = await Model.create({ device: 'cpu', imageSize: 224, seed: 1 });
  try {
    const image = { data: new Uint8Array(224 * 224 * 3).map((_, i) => (i * 7919) % 251), shape: [1, 224, 224, 3] as const };
    for (const method of ['gradcam', 'gradcam++'] as const) {
      await model.gradcam(image, { method });
      t = now();
      for (let i = 0; i < iterations; i++) await model.gradcam(image, { method });
      results[`${method}Ms`] = (now() - t) / iterations;
    }
    await model.predict(image);
    t = now();
    for (let i = 0; i < iterations; i++) await model.predict(image);
    results.predictMs = (now() - t) / iterations;
    const cam = await model.gradcam(image);
    t = now();
    await faithfulness(image.data, 224, 224, cam.cam, modelClassProbability(model, 224, 1, 8));
    results.faithfulnessMs = now() - t;
    console.log(`Grad-CAM ${results.gradcamMs.toFixed(0)} ms, Grad-CAM++ ${results['gradcam++Ms'].toFixed(0)} ms, one prediction ${results.predictMs.toFixed(0)} ms; ` +
      `faithfulness (44 images, batch 8) ${results.faithfulnessMs.toFixed(0)} ms per explained image`);
  } finally {
    model.dispose();
  }
  console.log(JSON.stringify(results));
}

void main();
