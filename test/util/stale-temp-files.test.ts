// Debris of killed writers: a temp file or folder is removed only when the pid in its name is gone.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempPathFor } from '../../src/util/atomic-write';
import { PIDLESS_STALE_MS, processAlive, removeStaleTemps, tempWriterPid } from '../../src/util/stale-temp-files';
import { deadPid } from '../helpers/dead-pid';

describe('stale temp files', () => {
  it('reads the writer pid from every writer\'s temp name', () => {
    expect(tempWriterPid(path.basename(tempPathFor('/x/epochs.jsonl')))).to.equal(process.pid);
    expect(tempWriterPid('last.pt.tmp-4242-140230977654784')).to.equal(4242);
    expect(tempWriterPid('.100X.new-4242-1732780000000')).to.equal(4242);
    expect(tempWriterPid('.100X.old-4242-1732780000000')).to.equal(4242);
    // Checkpoints saved before the pid was in the name.
    expect(tempWriterPid('best.pt.tmp-140230977654784')).to.equal(null);
    for (const name of ['last.pt', 'epochs.jsonl', '.hidden', 'plots', '100X', 'a.tmp', 'x.pt.tmp-']) expect(tempWriterPid(name), name).to.equal(undefined);
  });

  it('removes the temps of dead writers, keeps live writers\' and everything else', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-stale-'));
    const dead = deadPid();
    expect(processAlive(dead)).to.equal(false);
    expect(processAlive(process.pid)).to.equal(true);
    const run = path.join(dir, 'run');
    fs.mkdirSync(path.join(run, 'plots'), { recursive: true });
    const files = {
      deadAtomic: path.join(run, `.epochs.jsonl.${dead}.1732780000000.abc123.tmp`),
      liveAtomic: path.join(run, path.basename(tempPathFor(path.join(run, 'config.json')))),
      deadPlot: path.join(run, 'plots', `.loss.svg.${dead}.1732780000000.x1.tmp`),
      deadCheckpoint: path.join(run, `last.pt.tmp-${dead}-140230977654784`),
      liveCheckpoint: path.join(run, `best.pt.tmp-${process.pid}-140230977654784`),
      oldPidless: path.join(run, 'best.pt.tmp-140230977654784'),
      freshPidless: path.join(run, 'last.pt.tmp-140230977654785'),
      keep: path.join(run, 'last.pt'),
      deepDead: path.join(run, 'plots', 'deeper', `.x.${dead}.1.a.tmp`),
    };
    for (const f of Object.values(files)) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, 'x');
    }
    const old = new Date(Date.now() - PIDLESS_STALE_MS - 60_000);
    fs.utimesSync(files.oldPidless, old, old);
    const deadFolder = path.join(dir, `.100X.new-${dead}-1732780000000`);
    const liveFolder = path.join(dir, `.40X.new-${process.pid}-1732780000000`);
    for (const d of [deadFolder, liveFolder]) fs.mkdirSync(path.join(d, 'plots'), { recursive: true });

    const removed = removeStaleTemps(dir, { depth: 2 });
    expect(removed.sort()).to.deep.equal([files.deadAtomic, files.deadPlot, files.deadCheckpoint, files.oldPidless, deadFolder].sort());
    for (const f of removed) expect(fs.existsSync(f), f).to.equal(false);
    for (const f of [files.liveAtomic, files.liveCheckpoint, files.freshPidless, files.keep, liveFolder]) expect(fs.existsSync(f), f).to.equal(true);
    // Below the depth asked for: not searched.
    expect(fs.existsSync(files.deepDead)).to.equal(true);
    expect(removeStaleTemps(dir, { depth: 2 })).to.deep.equal([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
