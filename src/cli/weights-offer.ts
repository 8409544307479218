// `train --weights imagenet` without the file: with --fetch-weights it is downloaded; on a
// terminal the user is asked; otherwise training stops with resolveInitialWeights' message,
// which names the command and the manual steps.
import * as readline from 'node:readline/promises';
import { histoscopeCacheDir } from '../util/cache-dir';
import { FetchWeightsError, findVerified, IMAGENET_WEIGHTS, weightsUrl, type WeightsEntry } from '../weights';
import { fetchWithProgress } from './weights-fetch';

export interface OfferOptions {
  /** --fetch-weights: download without asking. */
  fetch: boolean;
  json: boolean;
  env?: NodeJS.ProcessEnv;
  catalogue?: readonly WeightsEntry[];
  /** Whether a person can answer; by default stdin and stderr are terminals and --json is off. */
  interactive?: boolean;
  /** Asks a yes/no question; by default on the terminal, Enter meaning yes. */
  ask?: (question: string) => Promise<boolean>;
  signal?: AbortSignal;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^(y|yes|)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Makes sure a verified ImageNet file is there when `spec` is 'imagenet' and the user agrees (or asked with --fetch-weights). */
export async function offerImagenetWeights(spec: string, o: OfferOptions): Promise<'present' | 'fetched' | 'declined' | 'not-needed'> {
  if (spec !== 'imagenet') return 'not-needed';
  const env = o.env ?? process.env;
  const catalogue = o.catalogue ?? IMAGENET_WEIGHTS;
  if ((await findVerified(catalogue, env)).found) return 'present';
  const entry = catalogue[0];
  const interactive = o.interactive ?? (!o.json && process.stdin.isTTY === true && process.stderr.isTTY === true);
  let go = o.fetch;
  if (!go && interactive) {
    go = await (o.ask ?? askOnTerminal)(`ImageNet weights (torchvision ${entry.torchvisionName}, ${entry.file}, ${(entry.bytes / 1024 / 1024).toFixed(0)} MB) ` +
      `are not in ${histoscopeCacheDir(env)}. Download them from ${weightsUrl(entry, env)} now? [Y/n] `);
  }
  if (!go) return 'declined';
  try {
    await fetchWithProgress(entry.id, { json: o.json, env, catalogue, signal: o.signal });
  } catch (err) {
    // train's action prints first lines only: the manual steps go on the same line.
    throw err instanceof FetchWeightsError ? new Error(err.oneLine(), { cause: err }) : err;
  }
  return 'fetched';
}
