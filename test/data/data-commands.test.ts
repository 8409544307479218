import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerDataCommands } from '../../src/cli/data-commands';
import { loadSplit } from '../../src/data';
import { runCommands } from '../helpers/run-cli';
import { tmpDir } from './helpers';

function run(...args: string[]): ReturnType<typeof runCommands> {
  return runCommands([registerDataCommands], ...args);
}

describe('histoscope index | split | synth', () => {
  it('synthesises, indexes and splits end to end', async () => {
    const dir = tmpDir('cli');
    const data = path.join(dir, 'synth');
    const synth = await run('synth', data, '--patients', '8', '--images-per-patient', '1', '--size', '70x46', '--seed', '2');
    expect(synth.code, synth.err).to.equal(0);
    expect(synth.out).to.match(/Wrote 32 synthetic tiles/);
    const manifest = path.join(dir, 'manifest.json');
    const index = await run('index', data, '--out', manifest);
    expect(index.code, index.err).to.equal(0);
    expect(index.out).to.match(/Images: 32 found \/ 7909/);
    expect(fs.existsSync(path.join(dir, 'manifest.csv'))).to.equal(true);
    const splitFile = path.join(dir, 'split.json');
    const split = await run('split', '--manifest', manifest, '--out', splitFile, '--folds', '2', '--group-by', 'case');
    expect(split.code, split.err).to.equal(0);
    expect(split.out).to.match(/fold-2: train/);
    expect(loadSplit(splitFile).split.groupBy).to.equal('case');
  });

  it('reports errors in one line with exit code 1', async () => {
    const dir = tmpDir('cli-err');
    const cases: [string[], RegExp][] = [
      [['index', path.join(dir, 'missing')], /does not exist; pass the folder/],
      [['split', '--manifest', path.join(dir, 'none.json')], /Cannot read manifest .* run `histoscope index DIR` first/],
      [['synth', path.join(dir, 's'), '--size', 'big'], /Expected WIDTHxHEIGHT such as 700x460 for --size but received 'big'/],
      [['synth', path.join(dir, 's'), '--patients', 'x'], /Expected integer for --patients but received 'x'/],
    ];
    for (const [args, re] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.err).to.match(re);
      expect(r.err.trim().split('\n')).to.have.length(1);
    }
  });
});
