// Ctrl-C on the `--nproc-per-node` launcher stops every rank at the same batch (exit 130), the
// run stays resumable, and `--resume` continues it as a distributed run to the end.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readEpochLog } from '../../../src/train';
import { syntheticCohort, tmpDir } from '../helpers';
import { startCli } from './dist-helpers';

const ARGS = ['--mag', '100X', '--weights', 'none', '--trainable', 'fc', '--image-size', '32', '--batch', '8', '--per-class', 'all',
  '--device', 'cpu', '--epochs', '2', '--dist-timeout', '60', '--json', '--nproc-per-node', '2'];

describe('distributed training: Ctrl-C on the launcher, then --resume', function () {
  this.timeout(300_000);

  it('stops all ranks cleanly and resumes to a finished run', async () => {
    const data = await syntheticCohort();
    const base = tmpDir('dist-resume');
    const runs = path.join(base, 'runs');
    const env = { HISTOSCOPE_DECODE_CACHE: path.join(base, 'cache') };
    const launcher = startCli(['train', '--data', data, ...ARGS, '--runs', runs], env);
    await launcher.waitFor('"event":"batch"');
    launcher.child.kill('SIGINT');
    const stopped = await launcher.done;
    expect(stopped.code, stopped.stderr).to.equal(130);
    expect(stopped.stdout).to.include('"event":"interrupted"');
    expect(stopped.stdout).to.not.include('"event":"run-end"');
    const runDir = path.join(runs, fs.readdirSync(runs).filter((d) => !d.startsWith('.'))[0]);
    expect(fs.existsSync(path.join(runDir, 'metrics.json'))).to.equal(false);

    const resumed = await startCli(['train', '--resume', runDir, '--json', '--nproc-per-node', '2', '--dist-timeout', '60'], env).done;
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(readEpochLog(runDir).map((r) => r.epoch)).to.deep.equal([1, 2]);
    expect(fs.existsSync(path.join(runDir, 'metrics.json'))).to.equal(true);
  });
});
