// Fixtures of the training tests: a small synthetic BreakHis cohort made once per process, and an
// in-process runner for CLI commands that captures output and the exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerTrainCommands } from '../../src/cli/train-commands';
import { generateSynthetic } from '../../src/data';
import type { TrainOverrides } from '../../src/train';
import { runCommands } from '../helpers/run-cli';
import { tmpDir } from '../helpers/tmp-dir';

export { tmpDir };

let cohort: Promise<string> | undefined;

/**
 * 24 synthetic patients at 100X, 140×92 tiles. Benign patients keep 3 of their 5 tiles, so the
 * classes are imbalanced (36 B / 60 M) and the class weights differ from 1.
 */
export function syntheticCohort(): Promise<string> {
  cohort ??= (async () => {
    const dir = path.join(tmpDir('train-cohort'), 'data');
    const r = await generateSynthetic(dir, { patients: 24, imagesPerPatient: 5, width: 140, height: 92, seed: 5, magnifications: ['100X'] });
    for (const p of r.patients.filter((x) => x.cls === 'benign')) {
      for (const file of fs.readdirSync(dir, { recursive: true }) as string[]) {
        if (file.includes(`-${p.patient}-100-004.png`) || file.includes(`-${p.patient}-100-005.png`)) fs.rmSync(path.join(dir, file));
      }
    }
    return dir;
  })();
  return cohort;
}

/** A fast recipe for tests: random init, layer4 + fc, 64 px, batch 8, a quarter of patients each for val and test. */
export function fastOverrides(data: string, runsDir: string, extra: Partial<TrainOverrides> = {}): TrainOverrides {
  return {
    data, runsDir, magnification: '100X', weights: 'none', trainable: 'layer4+fc', imageSize: 64, batchSize: 8,
    perClass: null, maxEpochs: 6, patience: 3, device: 'cpu', seed: 1, splitFractions: { train: 0.5, val: 0.25, test: 0.25 },
    ...extra,
  };
}

/** Runs `histoscope …args` in-process with the train commands. */
export function runCli(...args: string[]): ReturnType<typeof runCommands> {
  return runCommands([registerTrainCommands], ...args);
}
