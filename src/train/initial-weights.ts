// Where a run's starting weights come from: the torchvision ImageNet file in the cache folder,
// a file the user names, or none (random initialisation, only when asked for explicitly).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { histoscopeCacheDir } from '../util/cache-dir';
import { sha256File } from '../util/sha256-file';

/** torchvision ResNet-50 ImageNet files, preferred first: V1 is the weights the study fine-tuned. */
export const IMAGENET_FILES = [
  { file: 'resnet50-0676ba61.pth', name: 'ResNet50_Weights.IMAGENET1K_V1' },
  { file: 'resnet50-11ad3fa6.pth', name: 'ResNet50_Weights.IMAGENET1K_V2' },
] as const;
export const IMAGENET_URL = 'https://download.pytorch.org/models/resnet50-0676ba61.pth';

/** Where the ImageNet files are looked for: the shared cache folder (src/util/cache-dir.ts). */
export const weightsCacheDir = histoscopeCacheDir;

export interface InitialWeights {
  /** 'imagenet', 'file' or 'none'. */
  kind: 'imagenet' | 'file' | 'none';
  file: string | null;
  sha256: string | null;
  /** How a model card names it, e.g. "imagenet (resnet50-0676ba61.pth)". */
  label: string;
}

export function missingImagenetMessage(dir: string): string {
  return `ImageNet weights not found in ${dir}: place ${IMAGENET_FILES[0].file} (torchvision ${IMAGENET_FILES[0].name}, ` +
    `download it from ${IMAGENET_URL}) in that folder (or set HISTOSCOPE_CACHE to the folder holding it), ` +
    'pass --weights PATH, or train from scratch with --weights none.';
}

/** Finds the weights a config names; throws a message saying what to place where when missing. */
export async function resolveInitialWeights(spec: string, env: NodeJS.ProcessEnv = process.env): Promise<InitialWeights> {
  if (spec === 'none') return { kind: 'none', file: null, sha256: null, label: 'none' };
  if (spec === 'imagenet') {
    const dir = weightsCacheDir(env);
    const found = IMAGENET_FILES.map((f) => path.join(dir, f.file)).find((f) => fs.existsSync(f));
    if (!found) throw new Error(missingImagenetMessage(dir));
    return { kind: 'imagenet', file: found, sha256: await sha256File(found), label: `imagenet (${path.basename(found)})` };
  }
  const file = path.resolve(spec);
  if (!fs.existsSync(file)) throw new Error(`Weights file ${file} does not exist; pass --weights imagenet, a torchvision .pth/.safetensors file, or none.`);
  return { kind: 'file', file, sha256: await sha256File(file), label: path.basename(file) };
}
