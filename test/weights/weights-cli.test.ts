// `histoscope weights fetch | list | check`, `train --fetch-weights` / the offer to fetch, and
// `--weights PATH` checks, against a local server on 127.0.0.1 and torch.save fixtures.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { registerTrainCommands } from '../../src/cli/train-commands';
import { registerWeightsCommands } from '../../src/cli/weights-commands';
import { offerImagenetWeights } from '../../src/cli/weights-offer';
import { IMAGENET_WEIGHTS, checkWeightsFile, type WeightsEntry } from '../../src/weights';
import { resolveInitialWeights, trainRun } from '../../src/train';
import { runCommands } from '../helpers/run-cli';
import { tmpDir } from '../helpers/tmp-dir';
import { entryFor, servedBytes, weightFixtures } from './fixture';
import { closedPort, type FileServer, startFileServer } from './weights-server';

describe('weights commands', function () {
  this.timeout(120_000);
  let data: Buffer;
  let entry: WeightsEntry;
  let other: WeightsEntry;
  let catalogue: WeightsEntry[];
  let server: FileServer;
  let env: NodeJS.ProcessEnv;
  let cache: string;
  let hub: string;

  before(async () => {
    data = servedBytes();
    entry = entryFor(data);
    other = { ...entryFor(Buffer.from('other')), id: 'fixture-v2', file: 'resnet50-other.pth' };
    catalogue = [entry, other];
    // The server also serves the fixture under torchvision's real V1 name: the production hash must refuse it.
    server = await startFileServer({ [entry.file]: data, [IMAGENET_WEIGHTS[0].file]: data });
  });
  after(() => server.close());
  beforeEach(() => {
    const root = tmpDir('weights-cli');
    cache = path.join(root, 'cache');
    hub = path.join(root, 'torch', 'hub', 'checkpoints');
    env = { HISTOSCOPE_CACHE: cache, TORCH_HOME: path.join(root, 'torch'), HISTOSCOPE_WEIGHTS_MIRROR: server.base };
    server.requests.length = 0;
  });

  const run = (...args: string[]) => runCommands([(p) => registerWeightsCommands(p, { catalogue, env })], ...args);

  it('fetch downloads and verifies, then finds the file; a refused connection prints the manual steps', async () => {
    const first = await run('weights', 'fetch', 'fixture-v1');
    expect(first.code, first.err).to.equal(0);
    expect(first.out).to.include(`downloaded ${path.join(cache, entry.file)}`).and.include(`sha256 verified: ${entry.sha256}`);
    const again = await run('weights', 'fetch', 'fixture-v1', '--json');
    expect(JSON.parse(again.out.trim())).to.deep.include({ event: 'weights', id: 'fixture-v1', status: 'present', sha256: entry.sha256 });

    env.HISTOSCOPE_WEIGHTS_MIRROR = `http://127.0.0.1:${await closedPort()}/models/`;
    const refused = await run('weights', 'fetch', 'fixture-v2');
    expect(refused.code).to.equal(1);
    const lines = refused.err.trim().split('\n');
    expect(lines[0]).to.match(/^histoscope: Could not download resnet50-other\.pth .*connection refused by 127\.0\.0\.1:\d+/);
    expect(refused.err).to.include('To install it by hand').and.include(`sha256sum ${other.file}\` must print ${other.sha256}`);
    const bad = await run('weights', 'fetch', 'imagenet-v3');
    expect(bad.err).to.include("Expected one of 'fixture-v1', 'fixture-v2' for weights name but received 'imagenet-v3'");
  });

  it('list shows each copy verified or not, what is missing, and interrupted downloads', async () => {
    fs.mkdirSync(cache, { recursive: true });
    fs.mkdirSync(hub, { recursive: true });
    fs.writeFileSync(path.join(cache, entry.file), data);
    fs.writeFileSync(path.join(hub, entry.file), data.subarray(0, 1000));
    fs.writeFileSync(path.join(cache, `${other.file}.part`), 'abc');
    const r = await run('weights', 'list');
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(new RegExp(`fixture-v1 +verified .*${path.join(cache, entry.file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(r.out).to.match(/fixture-v1 +MISMATCH .*hub\/checkpoints\/resnet50-fixture\.pth\n +sha256 [0-9a-f]{64}, expected/);
    expect(r.out).to.match(/fixture-v2 +not downloaded \(3 bytes of an interrupted download in .*resnet50-other\.pth\.part\): `histoscope weights fetch fixture-v2`/);
    const json = (await run('weights', 'list', '--json')).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((j) => [j.id, j.verified])).to.deep.equal([['fixture-v1', true], ['fixture-v1', false]]);
  });

  it('train --fetch-weights downloads from the mirror and refuses a file without torchvision\'s sha256, before any run', async () => {
    const dir = tmpDir('train-fetch');
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const r = await runCommands([registerTrainCommands], 'train', '--data', dir, '--mag', '40X', '--fetch-weights', '--runs', path.join(dir, 'runs'));
      expect(r.code).to.equal(1);
      expect(r.err.trim().split('\n')).to.have.length(1);
      expect(r.err).to.match(/Refused resnet50-0676ba61\.pth .*expected 0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a/);
      expect(r.err).to.include('To install it by hand');
      expect(server.requests.map((q) => q.path)).to.deep.equal(['/models/resnet50-0676ba61.pth']);
      expect(fs.existsSync(path.join(dir, 'runs'))).to.equal(false);
      expect(fs.readdirSync(cache)).to.deep.equal([]);
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
  });

  it('the offer to fetch: downloads with --fetch-weights, asks on a terminal, otherwise leaves the message to training', async () => {
    expect(await offerImagenetWeights('/some/file.pth', { fetch: true, json: false, env, catalogue })).to.equal('not-needed');
    const questions: string[] = [];
    const ask = async (q: string): Promise<boolean> => { questions.push(q); return false; };
    expect(await offerImagenetWeights('imagenet', { fetch: false, json: false, env, catalogue, interactive: true, ask })).to.equal('declined');
    expect(questions[0]).to.include(entry.file).and.include(`${server.base}${entry.file}`).and.match(/\[Y\/n\] $/);
    expect(await offerImagenetWeights('imagenet', { fetch: false, json: false, env, catalogue, interactive: false, ask })).to.equal('declined');
    expect(questions).to.have.length(1);
    expect(server.requests).to.have.length(0);
    expect(await offerImagenetWeights('imagenet', { fetch: false, json: false, env, catalogue, interactive: true, ask: async () => true })).to.equal('fetched');
    expect(fs.readFileSync(path.join(cache, entry.file)).equals(data)).to.equal(true);
    expect(await offerImagenetWeights('imagenet', { fetch: true, json: false, env, catalogue })).to.equal('present');
    // Training then finds that verified copy.
    const w = await resolveInitialWeights('imagenet', env, catalogue);
    expect(w).to.deep.include({ kind: 'imagenet', file: path.join(cache, entry.file), sha256: entry.sha256 });
  });

  it('--weights imagenet takes a verified torch hub copy, refuses one that fails the hash, and says how to fetch when none', async () => {
    const none = await resolveInitialWeights('imagenet', env, catalogue).then(() => null, (e: Error) => e);
    expect(none?.message).to.include(cache).and.include(hub).and.include('histoscope weights fetch fixture-v1').and.include('--fetch-weights');
    fs.mkdirSync(hub, { recursive: true });
    fs.writeFileSync(path.join(hub, other.file), 'not other');
    const bad = await resolveInitialWeights('imagenet', env, catalogue).then(() => null, (e: Error) => e);
    expect(bad?.message).to.match(/resnet50-other\.pth is not torchvision's resnet50-other\.pth: its sha256 is [0-9a-f]{64}, expected/);
    fs.writeFileSync(path.join(hub, entry.file), data);
    expect((await resolveInitialWeights('imagenet', env, catalogue)).file).to.equal(path.join(hub, entry.file));
  });
});

describe('--weights PATH checks', function () {
  this.timeout(120_000);
  let fixtures: string | null;
  before(() => { fixtures = weightFixtures(); });
  // The fixture maker prints why it failed only once per process: say it again at each skip.
  const skipWithoutFixtures = (ctx: Mocha.Context): void => {
    console.log('      skipped: the weights fixtures need /usr/bin/python3 with torch and torchvision (set HISTOSCOPE_PYTHON)');
    ctx.skip();
  };

  it('names a missing file, a folder, an empty file', async () => {
    const dir = tmpDir('weights-path');
    const message = (p: string) => resolveInitialWeights(p).then(() => '', (e: Error) => e.message);
    expect(await message(path.join(dir, 'no.pth'))).to.match(/Weights file .*no\.pth does not exist; pass --weights imagenet/);
    expect(await message(dir)).to.match(/is a folder; give the \.pth or \.safetensors file inside it/);
    fs.writeFileSync(path.join(dir, 'empty.pth'), '');
    expect(await message(path.join(dir, 'empty.pth'))).to.match(/is empty \(an interrupted copy\?\)/);
  });

  it('accepts a ResNet-50 state dict and refuses other models and other files, saying why', async function () {
    if (!fixtures) return skipWithoutFixtures(this);
    const ok = await checkWeightsFile(path.join(fixtures, 'resnet50.pth'));
    expect(ok.loaded).to.be.greaterThan(300);
    expect(ok.headDropped).to.equal(true);
    const refuse = (f: string) => checkWeightsFile(f).then(() => '', (e: Error) => e.message);
    expect(await refuse(path.join(fixtures, 'resnet18.pth'))).to.match(/do not fit ResNet-50 .*Missing: .*Wrong shape: layer1\.0\.conv1\.weight \(file \[64, 64, 3, 3\], model \[64, 64, 1, 1\]\)/);
    expect(await refuse(path.join(fixtures, 'tiny.pth'))).to.match(/do not fit ResNet-50 .*Unexpected: weight/);
    const html = path.join(tmpDir('weights-html'), 'resnet50-0676ba61.pth');
    fs.writeFileSync(html, '<html>Access denied by proxy</html>');
    expect(await refuse(html)).to.match(/not a torch\.save file or \.safetensors .*looks like text/);
  });

  it('weights check reports both; train refuses a wrong file before creating a run folder', async function () {
    if (!fixtures) return skipWithoutFixtures(this);
    const good = await runCommands([(p) => registerWeightsCommands(p)], 'weights', 'check', path.join(fixtures, 'resnet50.pth'));
    expect(good.out).to.match(/loads as ResNet-50 \(\d+ tensors\); Dropped the file's classifier head \(fc\) of 1000 classes/);
    const wrong = await runCommands([(p) => registerWeightsCommands(p)], 'weights', 'check', path.join(fixtures, 'resnet18.pth'));
    expect(wrong.code).to.equal(1);
    const dir = tmpDir('weights-train');
    const err = await trainRun({ data: dir, magnification: '40X', weights: path.join(fixtures, 'resnet18.pth'), runsDir: path.join(dir, 'runs'), device: 'cpu' })
      .then(() => null, (e: Error) => e);
    expect(err?.message).to.match(/do not fit ResNet-50/);
    expect(fs.existsSync(path.join(dir, 'runs'))).to.equal(false);
  });
});
