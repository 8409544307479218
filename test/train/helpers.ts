// Fixtures of the training tests: a small synthetic BreakHis cohort made once per process, and an
// in-process runner for CLI commands that captures output and the exit code.
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerTrainCommands } from '../../src/cli/train-commands';
import { generateSynthetic } from '../../src/data';
import type { TrainOverrides } from '../../src/train';

export function tmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `histoscope-${label}-`));
}

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

/** Runs `histoscope …args` in-process with the train commands, capturing stdout/stderr and the exit code. */
export async function runCli(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('histoscope').exitOverride();
  registerTrainCommands(program);
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}
