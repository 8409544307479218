// Writing and loading split files. Loading re-checks everything a training run relies on:
// the manifest is the one the split was made from, parts share no patient, every image exists.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readManifest, type Manifest, type ManifestEntry } from './manifest';
import { SPLIT_VERSION } from './make-split';
import { PART_NAMES, type PartName, type SplitFile } from './split-types';
import { writeJsonAtomic } from '../util/atomic-write';

export async function writeSplit(file: string, split: SplitFile): Promise<void> {
  await writeJsonAtomic(file, split);
}

export interface LoadedSplit {
  split: SplitFile;
  manifest: Manifest;
  /** Entries of one part of one fold (fold 0 for a hold-out split). */
  entries(part: PartName, fold?: number): ManifestEntry[];
}

export interface LoadSplitOptions {
  /** Manifest to check against; default: the path recorded in the split. */
  manifestPath?: string;
  /** Check every image file exists under the manifest root (default true). */
  checkFiles?: boolean;
}

/** Throws if two parts of any fold share a patient or a group. */
export function assertDisjoint(split: SplitFile): void {
  for (const fold of split.splits) {
    for (const key of ['patients', 'groups'] as const) {
      const owner = new Map<string, PartName>();
      for (const p of PART_NAMES) {
        for (const id of fold.parts[p][key]) {
          const prev = owner.get(id);
          if (prev) throw new Error(`Split ${fold.name} puts ${key === 'patients' ? 'patient' : 'group'} ${id} in both ${prev} and ${p}; remake it with \`histoscope split\`.`);
          owner.set(id, p);
        }
      }
    }
  }
}

export function loadSplit(file: string, options: LoadSplitOptions = {}): LoadedSplit {
  let split: SplitFile;
  try {
    split = JSON.parse(fs.readFileSync(file, 'utf8')) as SplitFile;
  } catch (err) {
    throw new Error(`Cannot read split file ${file} (${(err as Error).message.split('\n')[0]}); make one with \`histoscope split\`.`, { cause: err });
  }
  if (!split || split.version !== SPLIT_VERSION || !Array.isArray(split.splits) || !split.manifest?.hash) {
    throw new Error(`${file} is not a Histoscope split file (version ${SPLIT_VERSION}); make one with \`histoscope split\`.`);
  }
  const recorded = split.manifest.path ? path.resolve(path.dirname(file), split.manifest.path) : undefined;
  const manifestPath = options.manifestPath ?? recorded;
  if (!manifestPath) throw new Error(`Split ${file} does not say which manifest it was made from; pass the manifest path.`);
  const manifest = readManifest(manifestPath);
  if (manifest.hash !== split.manifest.hash) {
    throw new Error(`Split ${file} was made from a different manifest than ${manifestPath} (hash ${split.manifest.hash.slice(0, 12)} vs ${manifest.hash.slice(0, 12)}); remake the split with \`histoscope split\`.`);
  }
  assertDisjoint(split);
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  for (const fold of split.splits) {
    for (const p of PART_NAMES) {
      for (const img of fold.parts[p].images) {
        const entry = byPath.get(img);
        if (!entry) throw new Error(`Split ${file} lists ${img}, which is not in the manifest; remake the split.`);
        if (!fold.parts[p].patients.includes(entry.patient)) throw new Error(`Split ${file}: ${img} belongs to patient ${entry.patient}, not listed in ${fold.name}/${p}; remake the split.`);
      }
    }
  }
  if (options.checkFiles ?? true) {
    const used = new Set(split.splits.flatMap((f) => PART_NAMES.flatMap((p) => f.parts[p].images)));
    const missing = [...used].filter((img) => !fs.existsSync(path.join(manifest.root, img)));
    if (missing.length) {
      throw new Error(`${missing.length} image(s) of split ${file} are missing under ${manifest.root} (first: ${missing[0]}); restore them or re-index and remake the split.`);
    }
  }
  return {
    split,
    manifest,
    entries(part, fold = 0) {
      const f = split.splits[fold];
      if (!f) throw new Error(`Split ${file} has ${split.splits.length} fold(s); fold ${fold} does not exist.`);
      return f.parts[part].images.map((img) => byPath.get(img)!);
    },
  };
}
