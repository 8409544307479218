import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { MissingModelError, ModelRegistry } from '../../src/infer';
import { installModel, tmpDir } from './model-fixture';

describe('ModelRegistry', () => {
  let modelsDir: string;
  before(async () => {
    modelsDir = tmpDir('registry');
    await installModel(modelsDir, '100X', { demo: true });
    await installModel(modelsDir, '200X');
  });

  it('lists every magnification, with the commands that make a missing one', () => {
    const registry = new ModelRegistry({ modelsDir });
    const status = registry.status();
    expect(status.map((s) => [s.magnification, s.installed])).to.deep.equal([['40X', false], ['100X', true], ['200X', true], ['400X', false]]);
    const missing = status[0];
    expect(missing.installed === false && missing.reason).to.match(/No model is installed for 40X.*histoscope train .*--mag 40X.*histoscope promote/);
    expect(missing.installed === false && missing.reason).not.to.include(modelsDir);
    registry.dispose();
  });

  it('loads a magnification once, sharing the load between concurrent callers', async () => {
    const registry = new ModelRegistry({ modelsDir });
    const [a, b, c] = await Promise.all([registry.get('100X'), registry.get('100X'), registry.get('100X')]);
    expect(a).to.equal(b).and.to.equal(c);
    expect(await registry.get('100X')).to.equal(a);
    expect(a.imageSize).to.equal(32);
    expect(a.card.demo).to.equal(true);
    expect(registry.status()[1]).to.include({ loaded: true });
    registry.dispose();
  });

  it('refuses a missing magnification without affecting the others', async () => {
    const registry = new ModelRegistry({ modelsDir });
    const err = await registry.get('400X').catch((e: Error) => e);
    expect(err).to.be.instanceOf(MissingModelError);
    expect((err as MissingModelError).detail).to.include(path.join(modelsDir, '400X'));
    expect((await registry.get('200X')).card.magnification).to.equal('200X');
    registry.dispose();
  });

  it('refuses a model file that does not match its card, and retries after it is fixed', async () => {
    const dir = tmpDir('registry-bad');
    await installModel(dir, '40X');
    const cardFile = path.join(dir, '40X', 'card.json');
    const good = fs.readFileSync(cardFile, 'utf8');
    const card = JSON.parse(good);
    card.weights.modelSha256 = '0'.repeat(64);
    fs.writeFileSync(cardFile, JSON.stringify(card));
    const registry = new ModelRegistry({ modelsDir: dir });
    const err = await registry.get('40X').catch((e: Error) => e);
    expect(err).to.be.instanceOf(MissingModelError);
    expect((err as Error).message).to.match(/does not match its model card/);
    fs.writeFileSync(cardFile, good);
    expect((await registry.get('40X')).card.id).to.equal('40X-fixture-32');
    registry.dispose();
  });

  it('reports a damaged card as damaged, not as absent', () => {
    const dir = tmpDir('registry-damaged');
    fs.mkdirSync(path.join(dir, '40X'));
    fs.writeFileSync(path.join(dir, '40X', 'card.json'), '{not json');
    const registry = new ModelRegistry({ modelsDir: dir });
    expect(() => registry.card('40X')).to.throw(MissingModelError, /installed incompletely or is damaged/);
  });
});
