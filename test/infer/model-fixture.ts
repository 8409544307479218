// Builds installed model folders (models/<mag>/{model.pt, card.json}) for tests and the bench,
// without training: a freshly initialised ResNet-50 saved by the native core, and a card whose
// test metrics come from src/eval on made-up predictions (so they have the real report's shape).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';

import { formatBreakhisName, type Magnification } from '../../src/data';
import { evaluatePredictions, type PredictionRecord } from '../../src/eval';
import { CARD_FILE, MODEL_CARD_SCHEMA, MODEL_FILE, type ModelCard } from '../../src/infer';
import { Model } from '../../src/native';
import { tmpDir } from '../helpers/tmp-dir';

export { tmpDir };

export interface FixtureOptions {
  imageSize?: number;
  demo?: boolean;
  threshold?: number;
  seed?: number;
}

const checkpoints = new Map<string, string>();

/** One saved checkpoint per (imageSize, seed), reused across tests: creating a ResNet-50 takes seconds. */
async function checkpoint(imageSize: number, seed: number): Promise<string> {
  const key = `${imageSize}-${seed}`;
  let file = checkpoints.get(key);
  if (!file || !fs.existsSync(file)) {
    file = path.join(tmpDir('ckpt'), MODEL_FILE);
    const model = await Model.create({ imageSize, seed, device: 'cpu' });
    await model.save(file, { metadata: { fixture: true, imageSize } });
    model.dispose();
    checkpoints.set(key, file);
  }
  return file;
}

function fakeTestReport(threshold: number): ModelCard['metrics']['test'] {
  const records: PredictionRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const label = (i % 2) as 0 | 1;
    const probMalignant = label === 1 ? (i % 10 === 1 ? 0.3 : 0.8) : (i % 10 === 0 ? 0.6 : 0.2);
    records.push({ label, probMalignant, patient: `P${i % 8}`, subtype: label ? 'DC' : 'A' });
  }
  return evaluatePredictions(records, { threshold, bootstrap: { resamples: 200 } });
}

export async function installModel(modelsDir: string, mag: Magnification, options: FixtureOptions = {}): Promise<ModelCard> {
  const imageSize = options.imageSize ?? 32;
  const threshold = options.threshold ?? 0.5;
  const dir = path.join(modelsDir, mag);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(await checkpoint(imageSize, options.seed ?? 7), path.join(dir, MODEL_FILE));
  const sha = createHash('sha256').update(fs.readFileSync(path.join(dir, MODEL_FILE))).digest('hex');
  const card: ModelCard = {
    schema: MODEL_CARD_SCHEMA,
    id: `${mag}-fixture-${imageSize}`,
    magnification: mag,
    demo: options.demo ?? false,
    createdAt: '2025-01-01T00:00:00.000Z',
    classNames: ['benign', 'malignant'],
    threshold,
    recipe: { imageSize, epochs: 1, trainable: 'layer4+fc' },
    data: {
      source: '/secret/server/path/BreaKHis_v1',
      synthetic: options.demo ?? false,
      manifestHash: 'm'.repeat(16),
      splitHash: 's'.repeat(16),
      counts: { train: { benign: 30, malignant: 30, patients: 12 }, val: { benign: 10, malignant: 10, patients: 4 }, test: { benign: 20, malignant: 20, patients: 8 } },
    },
    weights: { initial: 'none', initialSha256: null, modelSha256: sha, bestEpoch: 1 },
    metrics: { test: fakeTestReport(threshold), validation: { accuracy: 0.8, weightedF1: 0.79, loss: 0.45 } },
    plots: {},
    run: 'runs/fixture-run',
  };
  fs.writeFileSync(path.join(dir, CARD_FILE), JSON.stringify(card, null, 2));
  return card;
}

/** A small H&E-coloured PNG (pink stroma, purple nuclei), `width`×`height`. */
export async function tissuePng(width = 96, height = 64, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < width * height; i++) raw.set([230 - rnd() * 20, 170 - rnd() * 30, 200 - rnd() * 20], i * 3);
  for (let n = 0; n < (width * height) / 80; n++) {
    const cx = Math.floor(rnd() * width);
    const cy = Math.floor(rnd() * height);
    for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) {
      const x = cx + dx;
      const y = cy + dy;
      if (x >= 0 && y >= 0 && x < width && y < height && dx * dx + dy * dy <= 5) raw.set([90, 40, 130], (y * width + x) * 3);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export function breakhisName(mag: Magnification, sequence = 1, cls: 'benign' | 'malignant' = 'malignant'): string {
  return formatBreakhisName({ cls, subtype: cls === 'malignant' ? 'DC' : 'A', patient: '14-2523', magnification: mag, sequence });
}
