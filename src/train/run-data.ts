// The images a run trains, validates and tests on. A new run indexes the folder (or reads the
// given manifest), makes or reads the patient-wise split, and keeps copies of both in the run
// folder; resume, evaluate and promote read only those copies, so a run is self-contained.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import {
  indexDataset, loadSplit, makeSplit, readManifest, type Manifest, type ManifestEntry, type PartName, type Progress, type SplitFile,
} from '../data';
import { writeJsonAtomic } from '../util/atomic-write';
import type { TrainConfig, TrainMagnification } from './recipe';
import { RUN_FILES, runFile } from './run-folder';
import { isSyntheticDataset } from './synthetic-marker';

export interface RunData {
  manifest: Manifest;
  split: SplitFile;
  /** sha256 of the split's parts (not its timestamp): same images in the same parts → same hash. */
  splitHash: string;
  parts: Record<PartName, ManifestEntry[]>;
  synthetic: boolean;
}

export function splitHash(split: SplitFile): string {
  return createHash('sha256').update(JSON.stringify(split.splits)).digest('hex');
}

function forMagnification(entries: ManifestEntry[], mag: TrainMagnification): ManifestEntry[] {
  return mag === 'pooled' ? entries : entries.filter((e) => e.magnification === mag);
}

function assemble(manifest: Manifest, split: SplitFile, entries: (part: PartName) => ManifestEntry[], config: TrainConfig): RunData {
  const parts = {
    train: forMagnification(entries('train'), config.magnification),
    val: forMagnification(entries('val'), config.magnification),
    test: forMagnification(entries('test'), config.magnification),
  };
  for (const p of ['train', 'val', 'test'] as const) {
    const classes = new Set(parts[p].map((e) => e.cls));
    if (parts[p].length === 0) throw new Error(`The ${p} split has no images at ${config.magnification}; give more patients or another magnification.`);
    if (p !== 'test' && classes.size < 2) throw new Error(`The ${p} split holds only ${[...classes][0]} images at ${config.magnification}; both classes are needed (give more patients).`);
  }
  return { manifest, split, splitHash: splitHash(split), parts, synthetic: isSyntheticDataset(manifest.root) || isSyntheticDataset(config.data) };
}

export interface PrepareOptions {
  /** A manifest already built (e.g. shared by the runs of `--mag all`); skips indexing. */
  manifest?: Manifest;
  progress?: (total: number) => Progress;
}

/** Indexes/reads, splits, and saves manifest.json + split.json into the new run folder. */
export async function prepareRunData(config: TrainConfig, runDir: string, options: PrepareOptions = {}): Promise<RunData> {
  let manifest: Manifest;
  let split: SplitFile;
  if (config.split) {
    const loaded = loadSplit(config.split, config.manifest ? { manifestPath: config.manifest } : {});
    manifest = loaded.manifest;
    split = loaded.split;
  } else {
    if (options.manifest) manifest = options.manifest;
    else if (config.manifest) manifest = readManifest(config.manifest);
    else {
      if (!fs.existsSync(config.data) || !fs.statSync(config.data).isDirectory()) {
        throw new Error(`Dataset folder ${config.data} does not exist; pass --data with the folder holding the BreakHis images.`);
      }
      manifest = await indexDataset(config.data, { progress: options.progress });
    }
    if (manifest.entries.length === 0) throw new Error(`No BreakHis images found in ${manifest.root}; check --data.`);
    split = makeSplit(manifest, {
      seed: config.seed,
      fractions: config.splitFractions,
      groupBy: config.groupBy,
      capPerClass: config.perClass ?? undefined,
      magnifications: config.magnification === 'pooled' ? undefined : [config.magnification],
    });
  }
  if (config.fold >= split.splits.length) throw new Error(`The split has ${split.splits.length} fold(s); fold ${config.fold + 1} does not exist.`);
  const saved: SplitFile = { ...split, manifest: { ...split.manifest, path: RUN_FILES.manifest } };
  await writeJsonAtomic(runFile(runDir, 'manifest'), manifest);
  await writeJsonAtomic(runFile(runDir, 'split'), saved);
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  return assemble(manifest, saved, (p) => saved.splits[config.fold].parts[p].images.map((i) => byPath.get(i)!), config);
}

/** The run's own copies, re-checked (same manifest hash, disjoint parts, files present). */
export function loadRunData(runDir: string, config: TrainConfig): RunData {
  const loaded = loadSplit(runFile(runDir, 'split'), { manifestPath: runFile(runDir, 'manifest') });
  return assemble(loaded.manifest, loaded.split, (p) => loaded.entries(p, config.fold), config);
}

/** Images per class and patients of one part, as a model card reports them. */
export function partCounts(entries: readonly ManifestEntry[]): { benign: number; malignant: number; patients: number } {
  return {
    benign: entries.filter((e) => e.cls === 'benign').length,
    malignant: entries.filter((e) => e.cls === 'malignant').length,
    patients: new Set(entries.map((e) => e.patient)).size,
  };
}

/** Median width and height of `entries` (what out-of-distribution warnings compare uploads with). */
export function medianImageSize(entries: readonly ManifestEntry[]): { width: number; height: number } {
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { width: median(entries.map((e) => e.width)), height: median(entries.map((e) => e.height)) };
}
