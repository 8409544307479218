// The run folder: one per training, named `<time>-<mag>-b<batch>-n<per-class>`, never reused.
// Names of its files live here so training, evaluation, resume and promotion agree on them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';
import type { EpochRecord } from '../eval';
import { STUDY_RECIPE, type TrainConfig } from './recipe';

export const RUN_FILES = {
  config: 'config.json',
  manifest: 'manifest.json',
  split: 'split.json',
  epochs: 'epochs.jsonl',
  initialWeights: 'initial-weights.json',
  best: 'best.pt',
  last: 'last.pt',
  metrics: 'metrics.json',
  plots: 'plots',
} as const;

/** One line of epochs.jsonl: the plots' EpochRecord (1-based epoch) and what the loop measured. */
export interface EpochLogRecord extends EpochRecord {
  learningRate: number;
  seconds: number;
  /** Training images per second over the epoch's training phase (decode, augment, step). */
  imagesPerSecond: number;
  improved: boolean;
  bestEpoch: number;
  /** Training images the stain normaliser left unchanged (no tissue); present when the run normalises. */
  stainFallbacks?: number;
}

function stamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** `20250114-093012-40X-b32-n600` (`nall` when uncapped), plus `-<suffix>` e.g. a fold. */
export function runName(config: Pick<TrainConfig, 'magnification' | 'batchSize' | 'perClass'>, date = new Date(), suffix?: string): string {
  const base = `${stamp(date)}-${config.magnification}-b${config.batchSize}-n${config.perClass ?? 'all'}`;
  return suffix ? `${base}-${suffix}` : base;
}

/** Creates `runsDir/name` (or `name-2`, `name-3`, … if taken); mkdir without recursive is the atomic claim. */
export function createRunDir(runsDir: string, name: string): string {
  fs.mkdirSync(runsDir, { recursive: true });
  for (let i = 1; ; i++) {
    const dir = path.join(runsDir, i === 1 ? name : `${name}-${i}`);
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export function runFile(runDir: string, key: keyof typeof RUN_FILES): string {
  return path.join(runDir, RUN_FILES[key]);
}

export async function writeEpochLog(runDir: string, records: readonly EpochLogRecord[]): Promise<void> {
  // JSON lines cannot be appended atomically; the file is small, so it is rewritten whole.
  await writeFileAtomic(runFile(runDir, 'epochs'), records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
}

export function readEpochLog(runDir: string): EpochLogRecord[] {
  const file = runFile(runDir, 'epochs');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as EpochLogRecord);
}

export function readRunConfig(runDir: string): TrainConfig {
  const file = runFile(runDir, 'config');
  try {
    // Settings added after the run was made take the recipe's defaults.
    return { ...STUDY_RECIPE, ...(JSON.parse(fs.readFileSync(file, 'utf8')) as TrainConfig) };
  } catch (err) {
    throw new Error(`${path.resolve(runDir)} is not a training run (cannot read ${RUN_FILES.config}: ${(err as Error).message.split('\n')[0]}); pass a folder under runs/.`, { cause: err });
  }
}

export async function writeRunConfig(runDir: string, config: TrainConfig): Promise<void> {
  await writeJsonAtomic(runFile(runDir, 'config'), config);
}
