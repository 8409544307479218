// Writes a synthetic BreakHis-like dataset in the original tree and names. Used by tests,
// benchmarks and the demo model; every root gets a README saying the images are not tissue.
// Resumable: tiles are written atomically and existing ones are kept on a re-run with the same
// settings (output is byte-identical for a seed, so nothing is lost).
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { formatBreakhisName, MAGNIFICATIONS, type Magnification, subtypeInfo } from './breakhis-names';
import { mapWithConcurrency } from './concurrency';
import { deriveSeed, mulberry32 } from '../util/prng';
import { type Progress, silentProgress } from './progress';
import { renderTile } from './synth/render-tile';
import { type SyntheticPatient, syntheticPatients } from './synth/synthetic-patients';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import { expectInteger } from '../util/expect';

export interface SynthOptions {
  /** Number of patients (≥ 2; ≥ 8 for all eight subtypes). */
  patients: number;
  /** Images per patient at each magnification. */
  imagesPerPatient: number;
  width?: number;
  height?: number;
  seed?: number;
  magnifications?: Magnification[];
  /** Tiles rendered/encoded at once (default 2). */
  concurrency?: number;
  /** Called with the number of tiles before rendering starts. */
  progress?: (total: number) => Progress;
}

export interface SynthResult {
  root: string;
  images: number;
  written: number;
  kept: number;
  patients: SyntheticPatient[];
}

export const SYNTH_TREE = 'BreaKHis_v1/histology_slides/breast';

const README = (p: object): string => `SYNTHETIC IMAGES - NOT TISSUE

Every image under this folder was drawn by a program (histoscope synth): procedurally generated
H&E-like tiles with the BreakHis folder layout and file names. They show no real patient's tissue
and must never be used for diagnosis, for training a model meant for real slides, or for
reporting results about breast cancer. They exist to test and demonstrate Histoscope.

Settings: ${JSON.stringify(p)}
`;

function checkOptions(o: SynthOptions): void {
  expectInteger(o.patients, 'patients', 2, 10000);
  expectInteger(o.imagesPerPatient, 'images per patient', 1, 10000);
  expectInteger(o.width ?? 700, 'width', 16, 4096);
  expectInteger(o.height ?? 460, 'height', 16, 4096);
  expectInteger(o.seed ?? 1, 'seed', 0, 2 ** 32 - 1);
}

/** The relative path of one tile in the BreakHis tree. */
export function synthTilePath(p: SyntheticPatient, mag: Magnification, sequence: number): string {
  const info = subtypeInfo(p.subtype);
  const folder = `SOB_${p.cls === 'benign' ? 'B' : 'M'}_${p.subtype}_${p.patient}`;
  const name = formatBreakhisName({ cls: p.cls, subtype: p.subtype, patient: p.patient, magnification: mag, sequence });
  return `${SYNTH_TREE}/${p.cls}/SOB/${info.folder}/${folder}/${mag}/${name}`;
}

/** Renders and PNG-encodes one tile; the RNG depends only on seed, patient, magnification, sequence. */
export async function renderSyntheticPng(p: SyntheticPatient, mag: Magnification, sequence: number, width: number, height: number, seed: number): Promise<Buffer> {
  const rng = mulberry32(deriveSeed(seed, `${p.patient}/${p.subtype}/${mag}/${sequence}`));
  const raw = renderTile({ width, height, subtype: p.subtype, magnification: mag, stain: p.stain }, rng);
  return sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6, adaptiveFiltering: false }).toBuffer();
}

export async function generateSynthetic(out: string, options: SynthOptions): Promise<SynthResult> {
  checkOptions(options);
  const root = path.resolve(out);
  const settings = {
    patients: options.patients, imagesPerPatient: options.imagesPerPatient, width: options.width ?? 700,
    height: options.height ?? 460, seed: options.seed ?? 1, magnifications: options.magnifications ?? [...MAGNIFICATIONS],
  };
  const paramsFile = path.join(root, 'synth.json');
  if (fs.existsSync(paramsFile)) {
    const previous = fs.readFileSync(paramsFile, 'utf8');
    if (previous.trim() !== JSON.stringify(settings, null, 2)) {
      throw new Error(`${root} already holds synthetic images made with other settings; choose an empty folder or delete it first.`);
    }
  } else if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    throw new Error(`${root} is not empty and holds no synthetic dataset; choose an empty or new folder.`);
  }
  await writeJsonAtomic(paramsFile, settings);
  await writeFileAtomic(path.join(root, 'README.md'), README(settings));
  await writeFileAtomic(path.join(root, 'BreaKHis_v1', 'README.md'), README(settings));
  const patients = syntheticPatients(settings.patients, settings.seed);
  const jobs: { p: SyntheticPatient; mag: Magnification; seq: number }[] = [];
  for (const p of patients) {
    for (const mag of settings.magnifications) {
      for (let seq = 1; seq <= settings.imagesPerPatient; seq++) jobs.push({ p, mag, seq });
    }
  }
  const progress = options.progress?.(jobs.length) ?? silentProgress;
  let done = 0;
  let kept = 0;
  await mapWithConcurrency(jobs, options.concurrency ?? 2, async ({ p, mag, seq }) => {
    const file = path.join(root, synthTilePath(p, mag, seq));
    if (fs.existsSync(file)) kept++;
    else await writeFileAtomic(file, await renderSyntheticPng(p, mag, seq, settings.width, settings.height, settings.seed));
    progress.tick(++done);
  });
  progress.finish();
  return { root, images: jobs.length, written: jobs.length - kept, kept, patients };
}
