// First run on a fresh machine: when models/ holds no model at all, train a small demo model per
// magnification on the synthetic generator's images, so the UI can be tried without BreakHis.
// The cohort and recipe are demo-recipe.ts's; this trains, promotes and reports progress.
// Promoted cards are marked demo (the synthetic dataset carries its marker), and everything that
// shows their output says so. Re-running resumes the synthetic images and trains what is missing.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { generateSynthetic, indexDataset, type Magnification, MAGNIFICATIONS, type SynthOptions } from '../data';
import { readModelCard } from '../eval/model-card';
import { DEMO_SYNTH, demoOverrides } from './demo-recipe';
import { resolveInitialWeights } from './initial-weights';
import { promoteRun } from './promote-run';
import type { TrainOverrides } from './recipe';
import type { TrainEventHandler } from './train-events';
import { trainRun } from './train-run';

export interface DemoOptions {
  modelsDir: string;
  /** Where the synthetic images and demo runs go (default .cache/demo). */
  workDir?: string;
  magnifications?: readonly Magnification[];
  onEvent?: TrainEventHandler;
  log?: (line: string) => void;
  /** Changes to the demo cohort and recipe (tests train a tiny one). */
  synth?: Partial<SynthOptions>;
  recipe?: Partial<TrainOverrides>;
}

/**
 * Magnifications that need a demo model: none when any real (non-demo) model is installed, else
 * those with nothing in their slot (a damaged slot is left for a person to look at).
 */
export function demoModelsNeeded(modelsDir: string): Magnification[] {
  const cards = MAGNIFICATIONS.map((m) => {
    try {
      return readModelCard(path.join(modelsDir, m));
    } catch {
      return undefined;
    }
  });
  if (cards.some((c) => c && !c.demo)) return [];
  return MAGNIFICATIONS.filter((m) => !fs.existsSync(path.join(modelsDir, m)));
}

/** Trains and promotes a demo model for each magnification lacking one; returns those installed. */
export async function trainDemoModels(options: DemoOptions): Promise<Magnification[]> {
  const log = options.log ?? ((line: string): void => { process.stderr.write(`${line}\n`); });
  const workDir = path.resolve(options.workDir ?? path.join('.cache', 'demo'));
  const dataDir = path.join(workDir, 'synthetic');
  const mags = options.magnifications ?? MAGNIFICATIONS;
  log(`No trained model in ${options.modelsDir}: training demo models on synthetic images (${mags.join(', ')}). ` +
    'They are for trying the software only and must never be used on patients.');
  // Small enough for a few minutes on two CPU cores, and measured to learn (layer4+fc from random
  // initialisation; see demo-recipe.ts).
  await generateSynthetic(dataDir, { ...DEMO_SYNTH, ...options.synth, magnifications: [...mags] });
  const manifest = await indexDataset(dataDir);
  // ImageNet weights when the cache has them (a better demo); random initialisation otherwise (offline).
  const weights = await resolveInitialWeights('imagenet').then(() => 'imagenet', () => 'none');
  const installed: Magnification[] = [];
  for (const magnification of mags) {
    log(`Demo model ${installed.length + 1}/${mags.length}: ${magnification}`);
    const run = await trainRun({ ...demoOverrides(dataDir, magnification, path.join(workDir, 'runs')), weights, ...options.recipe },
      { manifest, onEvent: options.onEvent, nameSuffix: 'demo' });
    if (run.status !== 'finished') throw new Error(`Demo training of ${magnification} stopped before it finished; start again to retry.`);
    const card = await promoteRun(run.runDir, options.modelsDir);
    if (!card.demo) throw new Error(`The ${magnification} demo model was not marked as trained on synthetic images; refusing to serve it.`);
    installed.push(magnification);
  }
  return installed;
}
