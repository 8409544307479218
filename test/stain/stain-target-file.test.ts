// `train --stain-norm macenko --stain-target FILE`: the target is fitted to that one image and
// travels in stain-target.json, best.pt and card.json; a missing or blank FILE is refused with a
// clear message before any run folder is left behind. The same run feeds
// `evaluate --stain-shift --other-normaliser`, whose Reinhard target is fitted to the same FILE.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Model } from '../../src/native';
import { evaluateStainShift, promoteRun, readRunStainTarget, trainRun, type TrainRunResult } from '../../src/train';
import { fastOverrides, syntheticCohort, tmpDir } from '../train/helpers';

/** One tissue-like tile of the synthetic cohort: stained, and not part of the run's fitting sample by construction. */
function firstPng(dir: string): string {
  const file = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.png')).sort()[0];
  return path.join(dir, file);
}

describe('train --stain-target FILE', function () {
  this.timeout(600_000);
  let data: string;
  let reference: string;
  let result: TrainRunResult;

  before(async () => {
    data = await syntheticCohort();
    // Copied out of the dataset so that fittedTo names a file the run's data does not hold.
    reference = path.join(tmpDir('stain-reference'), 'reference.png');
    fs.copyFileSync(firstPng(data), reference);
    result = await trainRun(fastOverrides(data, path.join(tmpDir('stain-file-runs'), 'runs'), {
      maxEpochs: 1, stainNorm: 'macenko', stainTarget: reference,
    }));
  });

  it('fits the target to that file and stores it in stain-target.json, best.pt and card.json', async () => {
    const stain = readRunStainTarget(result.runDir)!;
    expect(stain.fittedTo).to.equal(reference);
    expect(stain.images).to.equal(1);
    expect(stain.target.method).to.equal('macenko');
    expect(stain.target.values.every(Number.isFinite)).to.equal(true);
    const { model } = await Model.load(path.join(result.runDir, 'best.pt'), { device: 'cpu' });
    expect(model.info().stain).to.deep.equal(stain.target);
    model.dispose();
    const card = await promoteRun(result.runDir, path.join(tmpDir('stain-file-models'), 'models'));
    expect(card.stain).to.deep.include({ method: 'macenko', values: stain.target.values, fittedTo: reference, images: 1 });
  });

  it('evaluate --stain-shift --other-normaliser adds finite Reinhard rows to the JSON and markdown reports', async () => {
    const report = await evaluateStainShift(result.runDir, { strengths: [0, 0.2], seed: 3, otherNormaliser: true });
    expect(report.rows.map((r) => `${r.strength}/${r.role}/${r.normalisation}`)).to.deep.equal([
      '0/model/macenko', '0/without/none', '0/other/reinhard', '0.2/model/macenko', '0.2/without/none', '0.2/other/reinhard',
    ]);
    const other = report.rows.filter((r) => r.role === 'other');
    for (const row of other) {
      expect(row.images).to.be.above(0);
      for (const value of [row.accuracy, row.weightedF1, row.auc]) expect(Number.isFinite(value), `${row.strength} ${value}`).to.equal(true);
    }
    const json = JSON.parse(fs.readFileSync(path.join(result.runDir, 'stain-shift.json'), 'utf8'));
    expect(json.rows).to.deep.equal(report.rows);
    const markdown = fs.readFileSync(path.join(result.runDir, 'stain-shift.md'), 'utf8');
    expect(markdown.split('\n').filter((l) => /^\| +0(\.2)? +\|.*reinhard/.test(l))).to.have.length(2);
  });

  it('refuses a missing FILE clearly and leaves no run folder', async () => {
    const runsDir = path.join(tmpDir('stain-missing-runs'), 'runs');
    const missing = path.join(tmpDir('stain-missing'), 'no-such-reference.png');
    let error: Error | undefined;
    await trainRun(fastOverrides(data, runsDir, { maxEpochs: 1, stainNorm: 'macenko', stainTarget: missing })).catch((e: Error) => { error = e; });
    expect(error?.message).to.equal(`Expected an image file or 'train' for --stain-target but received ${missing}, which does not exist.`);
    expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []).to.deep.equal([]);
  });

  it('refuses a blank FILE clearly and leaves no run folder', async () => {
    const runsDir = path.join(tmpDir('stain-blank-runs'), 'runs');
    const blank = path.join(tmpDir('stain-blank'), 'white.png');
    await sharp({ create: { width: 140, height: 92, channels: 3, background: '#ffffff' } }).png().toFile(blank);
    let error: Error | undefined;
    await trainRun(fastOverrides(data, runsDir, { maxEpochs: 1, stainNorm: 'macenko', stainTarget: blank })).catch((e: Error) => { error = e; });
    expect(error?.message).to.match(/^Expected stained tissue in the --stain-target images \(.*white\.png\) but the macenko fit failed: .*too little tissue.*Choose a reference image with stained tissue\./s);
    expect(fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : []).to.deep.equal([]);
  });
});
