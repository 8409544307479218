// Where a run's starting weights come from: torchvision's ImageNet file (in Histoscope's cache
// folder or torch hub's, verified on its whole sha256), a file the user names, or none (random
// initialisation, only when asked for explicitly).
import * as path from 'node:path';
import { histoscopeCacheDir } from '../util/cache-dir';
import { sha256File } from '../util/sha256-file';
import { IMAGENET_WEIGHTS, checkWeightsPath, findVerified, torchHubCheckpointsDir, weightsUrl, type WeightsEntry } from '../weights';

/** torchvision ResNet-50 ImageNet files, preferred first: V1 is the weights the study fine-tuned. */
export const IMAGENET_FILES = IMAGENET_WEIGHTS.map((e) => ({ file: e.file, name: e.torchvisionName }));
export const IMAGENET_URL = weightsUrl(IMAGENET_WEIGHTS[0], {});

/** Where `histoscope weights fetch` puts the ImageNet files: the shared cache folder (src/util/cache-dir.ts). */
export const weightsCacheDir = histoscopeCacheDir;

export interface InitialWeights {
  /** 'imagenet', 'file' or 'none'. */
  kind: 'imagenet' | 'file' | 'none';
  file: string | null;
  sha256: string | null;
  /** How a model card names it, e.g. "imagenet (resnet50-0676ba61.pth)". */
  label: string;
}

export function missingImagenetMessage(dir: string, hubDir = torchHubCheckpointsDir(), v1: WeightsEntry = IMAGENET_WEIGHTS[0]): string {
  return `ImageNet weights not found in ${dir} or ${hubDir}: run \`histoscope weights fetch ${v1.id}\` (or train with --fetch-weights), ` +
    `or place ${v1.file} (torchvision ${v1.torchvisionName}, download it from ${weightsUrl(v1, {})}) in ${dir} (or set HISTOSCOPE_CACHE to the folder holding it), ` +
    'pass --weights PATH, or train from scratch with --weights none.';
}

/** Finds the weights a config names; throws a message saying what to place where when missing. */
export async function resolveInitialWeights(spec: string, env: NodeJS.ProcessEnv = process.env,
  catalogue: readonly WeightsEntry[] = IMAGENET_WEIGHTS): Promise<InitialWeights> {
  if (spec === 'none') return { kind: 'none', file: null, sha256: null, label: 'none' };
  if (spec === 'imagenet') {
    const { found, rejected } = await findVerified(catalogue, env);
    if (found) return { kind: 'imagenet', file: found.file, sha256: found.sha256, label: `imagenet (${path.basename(found.file)})` };
    if (rejected.length > 0) {
      const bad = rejected[0];
      throw new Error(`${bad.file} is not torchvision's ${bad.entry.file}: its sha256 is ${bad.sha256}, expected ${bad.entry.sha256} ` +
        `(damaged or incomplete). Delete it and run \`histoscope weights fetch ${bad.entry.id}\`, or pass --weights PATH / none.`);
    }
    throw new Error(missingImagenetMessage(histoscopeCacheDir(env), torchHubCheckpointsDir(env), catalogue[0]));
  }
  const file = checkWeightsPath(spec);
  return { kind: 'file', file, sha256: await sha256File(file), label: path.basename(file) };
}
