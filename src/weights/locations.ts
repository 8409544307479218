// Where weight files are looked for: Histoscope's cache folder (where `weights fetch` puts them)
// and torch hub's checkpoint folder, so a file PyTorch already downloaded is used as it is.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { histoscopeCacheDir } from '../util/cache-dir';
import { sha256File } from '../util/sha256-file';
import type { WeightsEntry } from './catalogue';

/** torch.hub.get_dir() + '/checkpoints': `$TORCH_HOME`, else `$XDG_CACHE_HOME/torch`, else `~/.cache/torch`. */
export function torchHubCheckpointsDir(env: NodeJS.ProcessEnv = process.env): string {
  const torchHome = env.TORCH_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'torch');
  return path.resolve(torchHome, 'hub', 'checkpoints');
}

/** Folders searched, in order; the first is where downloads go. */
export function weightsSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  // One folder when HISTOSCOPE_CACHE points at torch hub's.
  return [...new Set([histoscopeCacheDir(env), torchHubCheckpointsDir(env)])];
}

export interface FoundWeights {
  entry: WeightsEntry;
  file: string;
  sha256: string;
  bytes: number;
  verified: boolean;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Every copy of the catalogue's files in the search folders, each hashed in full. */
export async function listWeights(catalogue: readonly WeightsEntry[], env: NodeJS.ProcessEnv = process.env): Promise<FoundWeights[]> {
  const found: FoundWeights[] = [];
  for (const dir of weightsSearchDirs(env)) {
    for (const entry of catalogue) {
      const file = path.join(dir, entry.file);
      if (!isFile(file)) continue;
      const sha256 = await sha256File(file);
      found.push({ entry, file, sha256, bytes: fs.statSync(file).size, verified: sha256 === entry.sha256 });
    }
  }
  return found;
}

/** The first copy that verifies, catalogue order first (V1 before V2), then folder order; hashing stops there. */
export async function findVerified(catalogue: readonly WeightsEntry[], env: NodeJS.ProcessEnv = process.env): Promise<{ found: FoundWeights | null; rejected: FoundWeights[] }> {
  const rejected: FoundWeights[] = [];
  for (const entry of catalogue) {
    for (const dir of weightsSearchDirs(env)) {
      const file = path.join(dir, entry.file);
      if (!isFile(file)) continue;
      const sha256 = await sha256File(file);
      const copy = { entry, file, sha256, bytes: fs.statSync(file).size, verified: sha256 === entry.sha256 };
      if (copy.verified) return { found: copy, rejected };
      rejected.push(copy);
    }
  }
  return { found: null, rejected };
}
