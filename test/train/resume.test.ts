// A run stopped after an epoch (or mid-epoch by Ctrl-C) and resumed ends where an uninterrupted
// run ends: same epochs, same early stop, a valid best checkpoint.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model } from '../../src/native';
import { readEpochLog, resumeRun, trainRun, type TrainEvent } from '../../src/train';
import { fastOverrides, syntheticCohort, tmpDir } from './helpers';

describe('resume', function () {
  this.timeout(240_000);

  it('continues after an interrupted epoch to the same number of epochs as an uninterrupted run', async () => {
    const data = await syntheticCohort();
    const runs = path.join(tmpDir('train-resume'), 'runs');
    const recipe = fastOverrides(data, runs, { maxEpochs: 4, patience: 2 });
    const whole = await trainRun(recipe);
    const first = await trainRun(recipe, { maxEpochsThisSession: 1 });
    expect(first.status).to.equal('interrupted');
    expect(first.epochs).to.equal(1);
    expect(fs.existsSync(path.join(first.runDir, 'metrics.json'))).to.equal(false);
    expect(readEpochLog(first.runDir)).to.have.length(1);
    const events: TrainEvent[] = [];
    const resumed = await resumeRun(first.runDir, { onEvent: (e) => events.push(e) });
    expect(resumed.status).to.equal('finished');
    expect(events.find((e) => e.event === 'run-start')).to.deep.include({ resumed: true, startEpoch: 1 });
    const a = readEpochLog(whole.runDir);
    const b = readEpochLog(resumed.runDir);
    expect(b.map((e) => e.epoch)).to.deep.equal(a.map((e) => e.epoch));
    // Same seeds, same order, same augmentation: the resumed run retraces the uninterrupted one.
    expect(b.map((e) => e.valAccuracy)).to.deep.equal(a.map((e) => e.valAccuracy));
    expect(resumed.metrics!.bestEpoch).to.equal(whole.metrics!.bestEpoch);
    const best = await Model.load(path.join(resumed.runDir, 'best.pt'), { device: 'cpu' });
    best.model.dispose();
    expect(best.epoch).to.equal(resumed.metrics!.bestEpoch);
    await resumeRun(resumed.runDir).then(() => expect.fail('resumed a finished run'), (err: Error) => expect(err.message).to.match(/already finished/));
  });

  it('stops mid-epoch on abort, writes no partial epoch, and resumes from scratch in the same folder', async () => {
    const data = await syntheticCohort();
    const runs = path.join(tmpDir('train-abort'), 'runs');
    const controller = new AbortController();
    const r = await trainRun(fastOverrides(data, runs, { maxEpochs: 1 }), {
      signal: controller.signal,
      onEvent: (e) => { if (e.event === 'batch' && e.batch === 2) controller.abort(); },
    });
    expect(r.status).to.equal('interrupted');
    expect(r.epochs).to.equal(0);
    expect(fs.existsSync(path.join(r.runDir, 'last.pt'))).to.equal(false);
    const resumed = await resumeRun(r.runDir);
    expect(resumed.status).to.equal('finished');
    expect(resumed.runDir).to.equal(r.runDir);
    expect(readEpochLog(r.runDir)).to.have.length(1);
    expect(fs.readdirSync(runs)).to.have.length(1);
  });
});
