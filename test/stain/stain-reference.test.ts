// Stain normalisation and HED jitter of the native core against an independent numpy
// implementation (test/stain/numpy-stain-reference.py) on real BreakHis tissue from
// ../shared/data, plus the properties any normaliser must have: idempotence, finite output and
// visible fallbacks on blank, white and one-colour images, identity and seeding of the jitter.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../../src/data';
import { fitStainTarget, jitterHed, normalizeStain, type ImageBatch, type StainTarget } from '../../src/native';
import { listFiles } from '../../src/data';
import { samplePath as defaultSamplePath } from '../data/helpers';

const PYTHON = process.env.HISTOSCOPE_PYTHON ?? '/usr/bin/python3';
// ../shared/data beside the repository, as the other real-data tests find it; a checkout elsewhere
// (a worktree) can point at it with HISTOSCOPE_BREAKHIS_SAMPLE.
const samplePath = process.env.HISTOSCOPE_BREAKHIS_SAMPLE ?? defaultSamplePath;
const SIZE = 224;

// Stated tolerances (images in 0..1; the core works in float32, numpy in float64).
const STAIN_VECTOR_TOLERANCE = 2e-3;     // per OD-vector component (unit vectors)
const CONCENTRATION_TOLERANCE = 2e-3;    // relative, 99th-percentile concentrations
const LAB_TOLERANCE = 2e-3;              // LAB units, Reinhard means and standard deviations
const PIXEL_MAX_TOLERANCE = 1 / 255;     // largest per-channel difference of normalised pixels
const PIXEL_MEAN_TOLERANCE = 1e-4;       // mean absolute difference
const IDEMPOTENCE_TOLERANCE = 0.02;      // mean |N(N(x)) - N(x)| (about 5 of 255 levels) ...
const IDEMPOTENCE_SHARE = 1 / 3;          // ... and under a third of what the first pass changed

/** Eight images spread over classes and magnifications, decoded as the model sees them. */
async function realBatch(): Promise<{ batch: ImageBatch; files: string[] }> {
  const all = (await listFiles(samplePath)).filter((f) => f.endsWith('.png')).sort();
  const files = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 8)) === 0).slice(0, 8);
  const data = new Uint8Array(files.length * SIZE * SIZE * 3);
  for (const [i, file] of files.entries()) data.set((await decodeImage(path.join(samplePath, file), { size: SIZE, fit: 'fill' })).data, i * SIZE * SIZE * 3);
  return { batch: { data, shape: [files.length, SIZE, SIZE, 3] }, files };
}

function one(batch: ImageBatch, i: number): ImageBatch {
  const bytes = SIZE * SIZE * 3;
  return { data: batch.data.subarray(i * bytes, (i + 1) * bytes), shape: [1, SIZE, SIZE, 3] };
}

function differences(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

function toBytes(pixels: Float32Array): Uint8Array {
  return Uint8Array.from(pixels, (v) => Math.round(v * 255));
}

interface Reference {
  macenko: { stainMatrix: number[]; maxConcentrations: number[]; tissue: number }[];
  reinhard: { mean: number[]; std: number[] }[];
  jitter: { pixels: number; stains: { scale: number; shift: number; residual: number }[] }[] | null;
}

describe('stain normalisation against a numpy reference on real tissue', function () {
  this.timeout(300_000);
  let batch: ImageBatch;
  let dir: string;
  let reference: Reference;
  let macenkoTarget: StainTarget;
  let reinhardTarget: StainTarget;
  let jittered: Float32Array;
  const strength = 0.1;

  before(async function () {
    if (!fs.existsSync(samplePath)) {
      console.log(`      skipped: the BreakHis sample ${samplePath} is absent`);
      this.skip();
    }
    if (!fs.existsSync(PYTHON)) {
      console.log(`      skipped: the numpy reference needs ${PYTHON} (not found; set HISTOSCOPE_PYTHON)`);
      this.skip();
    }
    ({ batch } = await realBatch());
    // Targets from the first image; every image is normalised to them (the first one to itself).
    macenkoTarget = await fitStainTarget('macenko', one(batch, 0));
    reinhardTarget = await fitStainTarget('reinhard', one(batch, 0));
    jittered = await jitterHed(batch, strength, 11);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-stain-'));
    fs.writeFileSync(path.join(dir, 'pixels.u8'), batch.data);
    fs.writeFileSync(path.join(dir, 'jittered.f32'), Buffer.from(jittered.buffer, jittered.byteOffset, jittered.byteLength));
    fs.writeFileSync(path.join(dir, 'request.json'), JSON.stringify({
      pixels: path.join(dir, 'pixels.u8'), n: batch.shape[0], height: SIZE, width: SIZE,
      macenkoTarget: macenkoTarget.values, reinhardTarget: reinhardTarget.values, jitter: { file: path.join(dir, 'jittered.f32') },
    }));
    const run = spawnSync(PYTHON, [path.join(__dirname, 'numpy-stain-reference.py'), path.join(dir, 'request.json'), dir], { encoding: 'utf8' });
    if (run.status === 77) {
      console.log(`      skipped: ${run.stderr.trim()}`);
      this.skip();
    }
    if (run.status !== 0) throw new Error(`numpy reference failed (${run.status}): ${run.stderr}`);
    reference = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as Reference;
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const readReference = (name: string): Float32Array => new Float32Array(new Uint8Array(fs.readFileSync(path.join(dir, name))).buffer);

  it('fits the same Macenko stain vectors and maximum concentrations', async () => {
    for (let i = 0; i < batch.shape[0]; i++) {
      const ours = await fitStainTarget('macenko', one(batch, i));
      const want = reference.macenko[i];
      ours.values.slice(0, 6).forEach((v, k) => expect(v, `image ${i} stain component ${k}`).to.be.closeTo(want.stainMatrix[k], STAIN_VECTOR_TOLERANCE));
      ours.values.slice(6).forEach((v, k) => expect(Math.abs(v / want.maxConcentrations[k] - 1), `image ${i} max concentration ${k}`).to.be.below(CONCENTRATION_TOLERANCE));
      // Haematoxylin first: the vector with more red absorbance.
      expect(ours.values[0]).to.be.above(ours.values[3]);
    }
  });

  it('normalises to the same Macenko pixels', async () => {
    const ours = await normalizeStain(batch, macenkoTarget);
    expect(ours.fallback.every((f) => !f), 'no real tissue image falls back').to.equal(true);
    const per = SIZE * SIZE * 3;
    for (let i = 0; i < batch.shape[0]; i++) {
      const d = differences(ours.pixels.subarray(i * per, (i + 1) * per), readReference(`macenko-${i}.f32`));
      expect(d.max, `image ${i} max`).to.be.below(PIXEL_MAX_TOLERANCE);
      expect(d.mean, `image ${i} mean`).to.be.below(PIXEL_MEAN_TOLERANCE);
    }
  });

  it('fits and applies Reinhard in CIELAB as numpy does', async () => {
    for (let i = 0; i < batch.shape[0]; i++) {
      const ours = await fitStainTarget('reinhard', one(batch, i));
      const want = [...reference.reinhard[i].mean, ...reference.reinhard[i].std];
      ours.values.forEach((v, k) => expect(v, `image ${i} value ${k}`).to.be.closeTo(want[k], LAB_TOLERANCE * Math.max(1, Math.abs(want[k]))));
    }
    const ours = await normalizeStain(batch, reinhardTarget);
    const per = SIZE * SIZE * 3;
    for (let i = 0; i < batch.shape[0]; i++) {
      const d = differences(ours.pixels.subarray(i * per, (i + 1) * per), readReference(`reinhard-${i}.f32`));
      expect(d.max, `image ${i} max`).to.be.below(PIXEL_MAX_TOLERANCE);
      expect(d.mean, `image ${i} mean`).to.be.below(PIXEL_MEAN_TOLERANCE);
    }
  });

  it('is nearly idempotent: normalising a normalised image changes it little', async () => {
    for (const target of [macenkoTarget, reinhardTarget]) {
      const once = await normalizeStain(batch, target);
      const twice = await normalizeStain({ data: toBytes(once.pixels), shape: batch.shape }, target);
      const d = differences(once.pixels, twice.pixels);
      const first = differences(Float32Array.from(batch.data, (v) => v / 255), once.pixels);
      process.stderr.write(`      (${target.method}: mean |N(N(x)) - N(x)| = ${d.mean.toFixed(5)}, max ${d.max.toFixed(3)}; first pass ${first.mean.toFixed(5)})\n`);
      expect(d.mean, target.method).to.be.below(IDEMPOTENCE_TOLERANCE);
      expect(d.mean, target.method).to.be.below(IDEMPOTENCE_SHARE * first.mean);
    }
  });

  it('moves each stain by a scale in [1-s, 1+s] and a shift in [-s, s] in HED space (HED jitter)', () => {
    for (const [i, fit] of reference.jitter!.entries()) {
      expect(fit.pixels, `image ${i} unclipped pixels`).to.be.above(1000);
      for (const s of fit.stains) {
        expect(s.scale).to.be.within(1 - strength - 1e-3, 1 + strength + 1e-3);
        expect(s.shift).to.be.within(-strength - 1e-3, strength + 1e-3);
        expect(s.residual).to.be.below(1e-3);
      }
    }
    // Per image, not one draw for the batch.
    expect(reference.jitter![0].stains[0].scale).not.to.be.closeTo(reference.jitter![1].stains[0].scale, 1e-6);
  });

  it('HED jitter at strength 0 is the identity, and a seed gives the same jitter again', async () => {
    const zero = await jitterHed(batch, 0, 11);
    expect(zero.every((v, i) => v === Math.fround(batch.data[i] / 255))).to.equal(true);
    const again = await jitterHed(batch, strength, 11);
    expect(Buffer.compare(Buffer.from(again.buffer), Buffer.from(jittered.buffer))).to.equal(0);
    const other = await jitterHed(batch, strength, 12);
    expect(differences(other, jittered).mean).to.be.above(1e-3);
  });
});

describe('stain normalisation of images without tissue', () => {
  const size = 64;
  const filled = (rgb: [number, number, number], noise = 0): ImageBatch => {
    const data = new Uint8Array(size * size * 3);
    let state = 7;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      data[i] = Math.max(0, Math.min(255, rgb[i % 3] + Math.round(((state >>> 24) / 255 - 0.5) * noise)));
    }
    return { data, shape: [1, size, size, 3] };
  };
  // Mixtures of Macenko's reference haematoxylin and eosin: enough for a target to fit to.
  const tissue = (): ImageBatch => {
    const h = [0.5626, 0.7201, 0.4062];
    const e = [0.2159, 0.8012, 0.5581];
    const data = new Uint8Array(size * size * 3);
    let state = 3;
    const next = (): number => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let p = 0; p < size * size; p++) {
      const [ch, ce] = [1.2 * next(), 1.2 * next()];
      for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round(Math.max(0, 256 * Math.exp(-(ch * h[c] + ce * e[c])) - 1));
    }
    return { data, shape: [1, size, size, 3] };
  };

  for (const method of ['macenko', 'reinhard'] as const) {
    it(`${method}: white, black, near-white, one-colour images come back unchanged, finite and flagged`, async () => {
      const target = await fitStainTarget(method, tissue());
      for (const [name, image] of Object.entries({
        white: filled([255, 255, 255]), black: filled([0, 0, 0]), nearWhite: filled([247, 245, 248], 6), pink: filled([200, 110, 170]),
      })) {
        const out = await normalizeStain(image, target);
        expect(out.fallback, name).to.deep.equal([true]);
        expect(out.pixels.every(Number.isFinite), name).to.equal(true);
        expect(out.pixels.every((v, i) => v === Math.fround(image.data[i] / 255)), `${name} unchanged`).to.equal(true);
      }
    });

    it(`${method}: refuses to fit a target to a blank image, naming the fix`, async () => {
      let error: Error | undefined;
      try {
        await fitStainTarget(method, filled([252, 252, 252], 4));
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).to.match(/Choose a reference image with stained tissue/);
    });
  }
});
