// What a user can do by hand when Histoscope cannot download a weight file itself (offline
// servers, blocked domains, proxies that need settings): where to get it, where to put it, how
// to check it.
import * as path from 'node:path';
import type { WeightsEntry } from './catalogue';

export function manualSteps(entry: WeightsEntry, url: string, cacheDir: string, hubDir: string): string[] {
  return [
    'To install it by hand:',
    `  1. on a machine with internet access, download ${url} (e.g. curl -LO ${url});`,
    `  2. copy it to ${path.join(cacheDir, entry.file)} (or torch hub's ${path.join(hubDir, entry.file)});`,
    `  3. check it: \`sha256sum ${entry.file}\` must print ${entry.sha256}, and \`histoscope weights list\` must call it verified.`,
    'Behind a proxy, set HTTPS_PROXY (and NO_PROXY for local hosts); HISTOSCOPE_WEIGHTS_MIRROR names a mirror of download.pytorch.org/models/.',
  ];
}

/** A failure with the steps that get around it: `message` holds both; `summary` is its first line. */
export class FetchWeightsError extends Error {
  override name = 'FetchWeightsError';
  constructor(readonly summary: string, readonly steps: string[]) {
    super([summary, ...steps].join('\n'));
  }

  /** Everything on one line, for callers that print only first lines. */
  oneLine(): string {
    return [this.summary, ...this.steps.map((s) => s.trim())].join(' ');
  }
}
