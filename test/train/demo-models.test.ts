import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readModelCard } from '../../src/eval/model-card';
import { demoModelsNeeded, trainDemoModels } from '../../src/train/demo-models';
import { installModel, tmpDir } from '../infer/model-fixture';

// Training the real demo models takes minutes (it is `npm start`'s first run); these tests pin
// down when that happens, which is what decides whether a clinic ever sees a demo model, and train
// a tiny one end to end.
describe('demo model bootstrap: when it trains', () => {
  it('trains all four magnifications when models/ is missing or empty', () => {
    const dir = tmpDir('demo-empty');
    expect(demoModelsNeeded(path.join(dir, 'absent'))).to.deep.equal(['40X', '100X', '200X', '400X']);
    expect(demoModelsNeeded(dir)).to.deep.equal(['40X', '100X', '200X', '400X']);
  });

  it('trains nothing once any real model is installed', async () => {
    const dir = tmpDir('demo-real');
    await installModel(dir, '200X', { demo: false });
    expect(demoModelsNeeded(dir)).to.deep.equal([]);
  });

  it('finishes an interrupted demo bootstrap, leaving installed and damaged slots alone', async () => {
    const dir = tmpDir('demo-partial');
    await installModel(dir, '40X', { demo: true });
    fs.mkdirSync(path.join(dir, '400X')); // damaged or half-copied: a person should look, not the bootstrap
    expect(demoModelsNeeded(dir)).to.deep.equal(['100X', '200X']);
  });

  it('trains, promotes and marks a tiny demo model, then needs nothing more for that slot', async function () {
    this.timeout(120_000);
    const dir = tmpDir('demo-train');
    const modelsDir = path.join(dir, 'models');
    const lines: string[] = [];
    const installed = await trainDemoModels({
      modelsDir,
      workDir: path.join(dir, 'work'),
      magnifications: ['100X'],
      log: (line) => lines.push(line),
      synth: { patients: 8, imagesPerPatient: 2, width: 40, height: 32 },
      recipe: { imageSize: 32, maxEpochs: 1, batchSize: 4, weights: 'none' },
    });
    expect(installed).to.deep.equal(['100X']);
    const card = readModelCard(path.join(modelsDir, '100X'));
    expect(card.demo).to.equal(true);
    expect(card.data.synthetic).to.equal(true);
    expect(card.recipe.imageSize).to.equal(32);
    expect(lines[0]).to.match(/must never be used on patients/);
    expect(demoModelsNeeded(modelsDir)).to.deep.equal(['40X', '200X', '400X']);
  });
});
