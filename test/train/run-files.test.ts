import { expect } from 'chai';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRunDir, IMAGENET_URL, isSyntheticDataset, readRunConfig, resolveInitialWeights, runName, validateConfig, weightsCacheDir } from '../../src/train';
import { IMAGENET_WEIGHTS } from '../../src/weights';
import { tmpDir } from './helpers';

describe('run folders', () => {
  it('are named <time>-<mag>-b<batch>-n<per-class>', () => {
    const at = new Date(2025, 0, 14, 9, 30, 12);
    expect(runName({ magnification: '40X', batchSize: 32, perClass: 600 }, at)).to.equal('20250114-093012-40X-b32-n600');
    expect(runName({ magnification: 'pooled', batchSize: 64, perClass: null }, at, 'fold2')).to.equal('20250114-093012-pooled-b64-nall-fold2');
  });

  it('never reuse a folder: a taken name gets a suffix', () => {
    const runs = path.join(tmpDir('runs'), 'runs');
    const a = createRunDir(runs, 'x');
    fs.writeFileSync(path.join(a, 'config.json'), '{}');
    const b = createRunDir(runs, 'x');
    const c = createRunDir(runs, 'x');
    expect([a, b, c].map((d) => path.basename(d))).to.deep.equal(['x', 'x-2', 'x-3']);
    expect(fs.readFileSync(path.join(a, 'config.json'), 'utf8')).to.equal('{}');
  });

  it('read configs saved before a setting was added or removed', () => {
    const run = tmpDir('old-config');
    // Runs saved before these keys were removed (never read) and before decodeConcurrency existed.
    fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({
      data: '/d', magnification: '40X', architecture: 'resnet50', optimizer: 'adam', selectBy: 'valWeightedF1', batchSize: 16,
    }));
    const config = readRunConfig(run);
    expect(config).to.include({ data: '/d', magnification: '40X', batchSize: 16, imageSize: 224 });
    expect(() => validateConfig(config)).not.to.throw();
  });
});

describe('synthetic data detection', () => {
  it('finds the generator\'s marker in the folder or a parent, and nowhere else', () => {
    const root = tmpDir('marker');
    const real = path.join(root, 'real', 'BreaKHis_v1');
    fs.mkdirSync(real, { recursive: true });
    fs.writeFileSync(path.join(real, 'README.md'), 'BreakHis dataset\n');
    expect(isSyntheticDataset(real)).to.equal(false);
    const synth = path.join(root, 'synth');
    fs.mkdirSync(path.join(synth, 'BreaKHis_v1', 'histology_slides'), { recursive: true });
    fs.writeFileSync(path.join(synth, 'synth.json'), '{}');
    expect(isSyntheticDataset(synth)).to.equal(true);
    expect(isSyntheticDataset(path.join(synth, 'BreaKHis_v1', 'histology_slides'))).to.equal(true);
    const readmeOnly = path.join(root, 'readme-only');
    fs.mkdirSync(readmeOnly);
    fs.writeFileSync(path.join(readmeOnly, 'README.md'), 'SYNTHETIC IMAGES - NOT TISSUE\n\n...');
    expect(isSyntheticDataset(readmeOnly)).to.equal(true);
  });
});

describe('initial weights', () => {
  it('--weights imagenet without the file says which file to place where and where to download it', async () => {
    const cache = path.join(tmpDir('cache'), 'empty');
    const err = await resolveInitialWeights('imagenet', { HISTOSCOPE_CACHE: cache, TORCH_HOME: path.join(cache, 'torch') }).then(() => null, (e: Error) => e);
    expect(err?.message).to.include('resnet50-0676ba61.pth').and.include(IMAGENET_URL).and.include(cache).and.include('--weights none')
      .and.include('histoscope weights fetch imagenet-v1');
  });

  it('finds either torchvision file in the cache folder, V1 first, checked on its whole sha256', async () => {
    const cache = tmpDir('cache');
    const env = { HISTOSCOPE_CACHE: cache, TORCH_HOME: path.join(cache, 'torch') };
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    // The same names with the hashes of small stand-ins: the production hashes would refuse them.
    const catalogue = IMAGENET_WEIGHTS.map((e, i) => ({ ...e, sha256: sha(`v${i + 1}`) }));
    fs.writeFileSync(path.join(cache, 'resnet50-11ad3fa6.pth'), 'v2');
    const w = await resolveInitialWeights('imagenet', env, catalogue);
    expect(w).to.deep.include({ kind: 'imagenet', file: path.join(cache, 'resnet50-11ad3fa6.pth'), label: 'imagenet (resnet50-11ad3fa6.pth)' });
    expect(w.sha256).to.equal(sha('v2'));
    fs.writeFileSync(path.join(cache, 'resnet50-0676ba61.pth'), 'v1');
    expect((await resolveInitialWeights('imagenet', env, catalogue)).file).to.equal(path.join(cache, 'resnet50-0676ba61.pth'));
    const refused = await resolveInitialWeights('imagenet', env).then(() => null, (e: Error) => e);
    expect(refused?.message).to.include("is not torchvision's resnet50-0676ba61.pth").and.include(IMAGENET_WEIGHTS[0].sha256).and.include('histoscope weights fetch imagenet-v1');
  });

  it('defaults the cache to ~/.cache/histoscope, takes none and files, rejects missing files', async () => {
    expect(weightsCacheDir({})).to.equal(path.join(os.homedir(), '.cache', 'histoscope'));
    expect(weightsCacheDir({ HISTOSCOPE_CACHE: 'rel/cache' })).to.equal(path.resolve('rel/cache'));
    expect(await resolveInitialWeights('none')).to.deep.equal({ kind: 'none', file: null, sha256: null, label: 'none' });
    await resolveInitialWeights('/no/such/file.pth').then(() => expect.fail('accepted'), (e: Error) => expect(e.message).to.match(/does not exist/));
  });
});
