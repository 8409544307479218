// `histoscope weights fetch | list | check`: commander wiring only; src/weights does the work.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { histoscopeCacheDir } from '../util/cache-dir';
import { checkWeightsFile, FetchWeightsError, IMAGENET_WEIGHTS, listWeights, torchHubCheckpointsDir, type WeightsEntry } from '../weights';
import { fetchWithProgress } from './weights-fetch';

/** What tests replace: the files known and the environment (cache folders, mirror, proxies). */
export interface WeightsCommandDeps {
  catalogue?: readonly WeightsEntry[];
  env?: NodeJS.ProcessEnv;
}

const MB = 1024 * 1024;

/** Like options.ts's action(), but a fetch failure prints all its lines: the manual steps matter. */
function weightsAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const message = err instanceof FetchWeightsError ? err.message : (err as Error).message.split('\n')[0];
      process.stderr.write(`histoscope: ${message}\n`);
      process.exitCode = 1;
    }
  };
}

export function registerWeightsCommands(program: Command, deps: WeightsCommandDeps = {}): void {
  const catalogue = deps.catalogue ?? IMAGENET_WEIGHTS;
  const env = (): NodeJS.ProcessEnv => deps.env ?? process.env;
  const weights = program.command('weights').description('torchvision\'s ImageNet ResNet-50 weights: download, list, check');

  weights.command('fetch').argument('<name>', catalogue.map((e) => e.id).join(' | '))
    .description(`download torchvision's file into ${histoscopeCacheDir()} (resumable; proxies from HTTPS_PROXY), verified on its whole sha256`)
    .option('--json', 'progress and the result as JSON lines', false)
    .action(weightsAction(async (name: string, o: { json: boolean }) => {
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once('SIGINT', onSigint);
      try {
        const r = await fetchWithProgress(name, { json: o.json, env: env(), catalogue, signal: controller.signal });
        if (o.json) process.stdout.write(JSON.stringify({ event: 'weights', id: r.entry.id, status: r.status, file: r.file, sha256: r.sha256, bytes: r.bytes, resumedFrom: r.resumedFrom, url: r.url }) + '\n');
        else if (r.status === 'present') process.stdout.write(`${r.entry.id}: ${r.file} is already there and verified (sha256 ${r.sha256}).\n`);
        else process.stdout.write(`${r.entry.id}: downloaded ${r.file} (${(r.bytes / MB).toFixed(1)} MB${r.resumedFrom ? `, resumed from byte ${r.resumedFrom}` : ''}), sha256 verified: ${r.sha256}.\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    }));

  weights.command('list')
    .description('the weight files in Histoscope\'s cache and torch hub\'s, each checked on its whole sha256')
    .option('--json', 'one JSON line per file', false)
    .action(weightsAction(async (o: { json: boolean }) => {
      const found = await listWeights(catalogue, env());
      const dir = histoscopeCacheDir(env());
      for (const f of found) {
        if (o.json) process.stdout.write(JSON.stringify({ id: f.entry.id, file: f.file, verified: f.verified, sha256: f.sha256, expected: f.entry.sha256, bytes: f.bytes }) + '\n');
        else process.stdout.write(`${f.entry.id.padEnd(12)} ${f.verified ? 'verified' : 'MISMATCH'}  ${(f.bytes / MB).toFixed(1).padStart(6)} MB  ${f.file}` +
          `${f.verified ? '' : `\n${' '.repeat(13)}sha256 ${f.sha256}, expected ${f.entry.sha256}: delete it and run \`histoscope weights fetch ${f.entry.id}\``}\n`);
      }
      if (o.json) return;
      for (const entry of catalogue) {
        if (found.some((f) => f.entry === entry && f.verified)) continue;
        const part = path.join(dir, `${entry.file}.part`);
        const partial = fs.existsSync(part) ? ` (${fs.statSync(part).size} bytes of an interrupted download in ${part})` : '';
        process.stdout.write(`${entry.id.padEnd(12)} not downloaded${partial}: \`histoscope weights fetch ${entry.id}\`\n`);
      }
      process.stdout.write(`Searched ${dir} and ${torchHubCheckpointsDir(env())}.\n`);
    }));

  weights.command('check').argument('<file>', 'a .pth or .safetensors file')
    .description('check that a file loads as ResNet-50 weights with torchvision\'s names and shapes (what --weights PATH loads)')
    .action(weightsAction(async (file: string) => {
      const r = await checkWeightsFile(file);
      process.stdout.write(`${r.file}: loads as ResNet-50 (${r.loaded} tensors)${r.notices.length ? '; ' + r.notices.join(' ') : ''}\n`);
    }));
}
