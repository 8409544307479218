import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { demoModelsNeeded } from '../../src/web/demo-bootstrap';
import { installModel, tmpDir } from '../infer/model-fixture';

// Training the demo models themselves takes minutes (it is `npm start`'s first run); these tests
// pin down when that happens, which is what decides whether a clinic ever sees a demo model.
describe('demo model bootstrap: when it trains', () => {
  it('trains all four magnifications when models/ is missing or empty', () => {
    const dir = tmpDir('demo-empty');
    expect(demoModelsNeeded(path.join(dir, 'absent'))).to.deep.equal(['40X', '100X', '200X', '400X']);
    expect(demoModelsNeeded(dir)).to.deep.equal(['40X', '100X', '200X', '400X']);
  });

  it('trains nothing once any real model is installed', async () => {
    const dir = tmpDir('demo-real');
    await installModel(dir, '200X', { demo: false });
    expect(demoModelsNeeded(dir)).to.deep.equal([]);
  });

  it('finishes an interrupted demo bootstrap, leaving installed and damaged slots alone', async () => {
    const dir = tmpDir('demo-partial');
    await installModel(dir, '40X', { demo: true });
    fs.mkdirSync(path.join(dir, '400X')); // damaged or half-copied: a person should look, not the bootstrap
    expect(demoModelsNeeded(dir)).to.deep.equal(['100X', '200X']);
  });
});
