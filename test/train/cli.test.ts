// The train commands end to end through the CLI wiring: JSON events, evaluate, promote, sweep and
// CV on tiny settings; and errors as one line with exit code 1.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerInferCommands } from '../../src/cli/infer-commands';
import { readModelCard } from '../../src/eval/model-card';
import { runCommands } from '../helpers/run-cli';
import { runCli, syntheticCohort, tmpDir } from './helpers';

const FAST = ['--mag', '100X', '--weights', 'none', '--trainable', 'layer4+fc', '--image-size', '64', '--batch', '8', '--per-class', 'all', '--device', 'cpu'];

describe('histoscope train | evaluate | promote | sweep | cv', function () {
  this.timeout(240_000);

  it('trains with --json events, then evaluates and promotes the run', async () => {
    const data = await syntheticCohort();
    const root = tmpDir('cli-train');
    const runs = path.join(root, 'runs');
    const r = await runCli('train', '--data', data, ...FAST, '--epochs', '1', '--runs', runs, '--json');
    expect(r.code, r.err).to.equal(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; runDir?: string });
    const kinds = events.map((e) => e.event);
    for (const k of ['warning', 'run-start', 'epoch-start', 'batch', 'epoch-end', 'evaluate', 'run-end', 'metrics']) expect(kinds, k).to.include(k);
    const runDir = events.find((e) => e.event === 'run-end')!.runDir!;
    expect(path.dirname(runDir)).to.equal(runs);

    const ev = await runCli('evaluate', runDir, '--faithfulness', '2');
    expect(ev.code, ev.err).to.equal(0);
    expect(ev.out).to.match(/true malignant\s+\d+\s+\d+/).and.match(/patient-level recognition rate [\d.]+ \([\d.]+–[\d.]+: 95% Wilson score interval over \d+ patients/);
    expect(ev.out).to.match(/explanation faithfulness on 2 test images/).and.match(/gradcam\+\+ +deletion AUC \d\.\d{3} \[\d\.\d{3}\]/);
    const faith = JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8')).faithfulness;
    expect(faith.images).to.equal(2);
    expect(Object.keys(faith.methods)).to.deep.equal(['gradcam', 'gradcam++']);

    // Another source (here the run's own split file) is scored at the run's threshold, into evaluations/.
    const ext = await runCli('evaluate', runDir, '--split', path.join(runDir, 'split.json'), '--json');
    expect(ext.code, ext.err).to.equal(0);
    const scored = JSON.parse(ext.out.trim().split('\n').pop()!) as { source: string; threshold: number; test: { counts: { images: number } } };
    expect(scored.source).to.equal(path.join(runDir, 'split.json'));
    expect(scored.threshold).to.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'metrics.json'), 'utf8')).threshold.threshold);
    expect(scored.test.counts.images).to.be.above(0);
    expect(fs.readdirSync(path.join(runDir, 'evaluations'))).to.have.length(1);

    const models = path.join(root, 'models');
    const pr = await runCli('promote', runDir, '--models', models);
    expect(pr.code, pr.err).to.equal(0);
    expect(pr.out).to.match(/DEMO/);
    const card = readModelCard(path.join(models, '100X'));
    expect(card.demo).to.equal(true);
    expect(card.metrics.faithfulness!.images).to.equal(2);
    // The cohort's 140×92 tiles: what uploads are compared with.
    expect(card.data.imageSize).to.deep.equal({ width: 140, height: 92 });

    // histoscope gradcam with the promoted model: the method, warnings and faithfulness in its JSON.
    const image = fs.readdirSync(data, { recursive: true, encoding: 'utf8' }).find((f) => /-100-\d+\.png$/.test(f))!;
    const out = path.join(root, 'cams');
    fs.mkdirSync(out);
    const g = await runCommands([registerInferCommands], 'gradcam', path.join(data, image), '--models', models, '--method', 'gradcam++', '--json', '-o', out);
    expect(g.code, g.err).to.equal(0);
    const answer = JSON.parse(g.out) as { method: string; warnings: unknown[]; faithfulness: { deletion: number; insertion: number; randomDeletion: number; steps: number } };
    expect(answer.method).to.equal('gradcam++');
    // The tile is the training size, so no size warning (its content, upsampled from 140×92, may be smooth).
    expect((answer.warnings as { code: string }[]).map((w) => w.code)).to.not.include('size');
    expect(answer.faithfulness.steps).to.equal(10);
    for (const v of [answer.faithfulness.deletion, answer.faithfulness.insertion]) expect(v).to.be.within(0, 1);
    const text = await runCommands([registerInferCommands], 'gradcam', path.join(data, image), '--models', models, '--no-faithfulness', '-o', out);
    expect(text.code, text.err).to.equal(0);
    expect(text.out).to.match(/Grad-CAM for (benign|malignant)/).and.not.match(/faithfulness/);
    const bad = await runCommands([registerInferCommands], 'gradcam', path.join(data, image), '--models', models, '--method', 'scorecam');
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/--method expects gradcam or gradcam\+\+, got "scorecam"/);
  });

  it('sweeps a grid and cross-validates, writing tables beside the runs', async () => {
    const data = await syntheticCohort();
    const runs = path.join(tmpDir('cli-sweep'), 'runs');
    const s = await runCli('sweep', '--data', data, ...FAST.filter((_, i, a) => !['--batch', '--per-class'].includes(a[i]) && !['--batch', '--per-class'].includes(a[i - 1])),
      '--batch', '8,16', '--per-class', '20', '--epochs', '1', '--runs', runs);
    expect(s.code, s.err).to.equal(0);
    const sweepDir = fs.readdirSync(runs).find((d) => d.startsWith('sweep-'))!;
    const table = JSON.parse(fs.readFileSync(path.join(runs, sweepDir, 'sweep.json'), 'utf8'));
    expect(table.rows.map((row: { batchSize: number }) => row.batchSize)).to.deep.equal([8, 16]);
    expect(table.best).to.have.length(1);
    expect(table.best[0].valWeightedF1).to.equal(Math.max(...table.rows.map((row: { valWeightedF1: number }) => row.valWeightedF1)));
    expect(fs.readFileSync(path.join(runs, sweepDir, 'sweep.md'), 'utf8')).to.match(/\| Magnification \| Batch \| Images\/class/);

    const cv = await runCli('cv', '--data', data, ...FAST, '--folds', '2', '--epochs', '1', '--runs', runs, '--json');
    expect(cv.code, cv.err).to.equal(0);
    const done = cv.out.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'cv');
    expect(done.runs).to.have.length(2);
    const acc = done.summary.metrics['metrics.accuracy'];
    expect(acc.values).to.have.length(2);
    expect(acc.mean).to.be.closeTo((acc.values[0] + acc.values[1]) / 2, 1e-12);
    expect(fs.readFileSync(path.join(done.dir, 'cv.md'), 'utf8')).to.match(/Accuracy\s*\|\s*\d\.\d{3} ± \d\.\d{3}/);
  });

  it('reports errors in one line with exit code 1', async () => {
    const dir = tmpDir('cli-train-err');
    const cases: [string[], RegExp][] = [
      [['train', '--data', path.join(dir, 'missing'), '--weights', 'none', '--mag', '40X', '--runs', path.join(dir, 'runs')], /Dataset folder .*missing does not exist/],
      [['train', '--mag', '40X'], /--data is required/],
      [['train', '--data', dir, '--mag', '50X'], /Expected one of 40X, 100X, 200X, 400X, pooled, all for --mag but received '50X'/],
      [['train', '--data', dir, '--batch', 'x'], /Expected integer for --batch but received 'x'/],
      [['train', '--data', dir, '--mag', '40X', '--weights', 'none', '--trainable', 'fc', '--sync-bn', '--runs', path.join(dir, 'runs')],
        /Expected layer4\+fc or all for --trainable with --sync-bn but received fc/],
      [['train', '--resume', path.join(dir, 'nope')], /is not a training run/],
      [['evaluate', dir], /is not a training run/],
      [['promote', dir], /is not a training run/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(...args);
      expect(r.code, args.join(' ')).to.equal(1);
      expect(r.err).to.match(re);
      expect(r.err.trim().split('\n'), r.err).to.have.length(1);
    }
    expect(fs.existsSync(path.join(dir, 'runs'))).to.equal(false);
  });

  it('--weights imagenet without the file stops before creating a run, saying what to download', async () => {
    const dir = tmpDir('cli-imagenet');
    const prev = { cache: process.env.HISTOSCOPE_CACHE, torch: process.env.TORCH_HOME };
    process.env.HISTOSCOPE_CACHE = path.join(dir, 'cache');
    process.env.TORCH_HOME = path.join(dir, 'torch');
    // Not a terminal, even when mocha runs in one: a terminal would be asked whether to download.
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: false, configurable: true });
    try {
      const r = await runCli('train', '--data', dir, '--mag', '40X', '--weights', 'imagenet', '--runs', path.join(dir, 'runs'));
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/place resnet50-0676ba61\.pth .*https:\/\/download\.pytorch\.org\/models\/resnet50-0676ba61\.pth/);
      expect(r.err).to.include(path.join(dir, 'cache')).and.include('histoscope weights fetch imagenet-v1').and.include('--fetch-weights');
      expect(fs.existsSync(path.join(dir, 'runs'))).to.equal(false);
    } finally {
      if (tty) Object.defineProperty(process.stdin, 'isTTY', tty);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
      for (const [k, v] of [['HISTOSCOPE_CACHE', prev.cache], ['TORCH_HOME', prev.torch]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
