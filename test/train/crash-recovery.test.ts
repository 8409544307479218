// What a killed trainer or promotion leaves behind is repaired by the next resume or promote:
// epochs.jsonl is rebuilt from last.pt (it cannot stay an epoch behind), and the temp files and
// folders of dead writers are removed, never a live writer's. The crash windows are made by hand.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promoteRun, readEpochLog, readRunMetrics, resumeRun, trainRun, type TrainEvent } from '../../src/train';
import { deadPid } from '../helpers/dead-pid';
import { fastOverrides, syntheticCohort, tmpDir } from './helpers';

describe('recovery after a killed trainer or promotion', function () {
  this.timeout(240_000);

  it('resume rebuilds the epoch an interrupted log write lost, and removes dead writers\' temp files', async () => {
    const data = await syntheticCohort();
    const runs = path.join(tmpDir('train-crash'), 'runs');
    const first = await trainRun(fastOverrides(data, runs, { maxEpochs: 2, patience: 5 }), { maxEpochsThisSession: 1 });
    expect(first.epochs).to.equal(1);
    const logged = readEpochLog(first.runDir);
    expect(logged.map((r) => r.epoch)).to.deep.equal([1]);
    // The window between saving last.pt and rewriting epochs.jsonl: the log lacks the checkpoint's epoch.
    const log = path.join(first.runDir, 'epochs.jsonl');
    fs.writeFileSync(log, '');
    // And what kill -9 leaves mid-save: a checkpoint temp and an atomic-write temp of a dead process.
    const dead = deadPid();
    const debris = [path.join(first.runDir, `last.pt.tmp-${dead}-94000000000000`), path.join(first.runDir, `.epochs.jsonl.${dead}.1.a.tmp`)];
    const live = path.join(first.runDir, `best.pt.tmp-${process.pid}-94000000000000`);
    for (const f of [...debris, live]) fs.writeFileSync(f, 'partial');

    const events: TrainEvent[] = [];
    const resumed = await resumeRun(first.runDir, { onEvent: (e) => events.push(e) });
    expect(resumed.status).to.equal('finished');
    const records = readEpochLog(first.runDir);
    expect(records.map((r) => r.epoch)).to.deep.equal([1, 2]);
    // Epoch 1 comes back as it was measured (from last.pt), not retrained.
    expect(records[0]).to.deep.equal(logged[0]);
    expect(readRunMetrics(first.runDir).epochs).to.equal(2);
    expect(resumed.metrics!.epochs).to.equal(2);

    const cleanup = events.find((e) => e.event === 'stale-temps-removed');
    expect(cleanup, 'a stale-temps-removed event').to.not.equal(undefined);
    expect((cleanup as { paths: string[] }).paths.sort()).to.deep.equal(debris.sort());
    for (const f of debris) expect(fs.existsSync(f), f).to.equal(false);
    expect(fs.existsSync(live)).to.equal(true);
    fs.rmSync(live);

    // A promotion killed between its two renames: the slot was moved aside, the new one not moved in.
    const models = path.join(tmpDir('promote-crash'), 'models');
    fs.mkdirSync(models);
    const aside = path.join(models, `.100X.old-${dead}-1732780000000`);
    const half = path.join(models, `.100X.new-${dead}-1732780000001`);
    const other = path.join(models, `.40X.new-${process.pid}-1732780000002`);
    for (const d of [aside, half, other]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(aside, 'card.json'), '{}');
    const notices: TrainEvent[] = [];
    await promoteRun(first.runDir, models, { onEvent: (e) => notices.push(e) });
    expect(notices.find((e) => e.event === 'warning')).to.have.property('message').that.matches(/Restored .*100X from \.100X\.old-/);
    expect(notices.find((e) => e.event === 'stale-temps-removed')).to.deep.equal({ event: 'stale-temps-removed', paths: [half] });
    expect(fs.readdirSync(models).sort()).to.deep.equal(['.40X.new-' + process.pid + '-1732780000002', '100X']);
    expect(fs.existsSync(path.join(models, '100X', 'model.pt'))).to.equal(true);
  });
});
