import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { serve } from '../../src/web/serve';
import { installModel, tmpDir } from '../infer/model-fixture';

const root = path.resolve(__dirname, '..', '..');

// `npm start` and `histoscope serve` share serve(): the demo bootstrap runs in both, and the
// entry point starts, answers and stops on SIGTERM.
describe('serve: what npm start and histoscope serve run', () => {
  it('trains a demo model for the empty slot before listening, then serves it', async function () {
    this.timeout(120_000);
    const modelsDir = path.join(tmpDir('serve-demo'), 'models');
    for (const mag of ['40X', '100X', '200X'] as const) await installModel(modelsDir, mag, { demo: true });
    const lines: string[] = [];
    const { url, close } = await serve({
      port: 0, modelsDir, bootstrapDemo: true, log: () => undefined, announce: (line) => lines.push(line),
      demo: {
        workDir: path.join(modelsDir, '..', 'work'), log: () => undefined, onEvent: () => undefined,
        synth: { patients: 8, imagesPerPatient: 2, width: 40, height: 32 },
        recipe: { imageSize: 32, maxEpochs: 1, batchSize: 4, weights: 'none' },
      },
    });
    try {
      expect(lines).to.deep.equal([`Histoscope is serving at ${url}`]);
      const health = await (await fetch(`${url}/healthz`)).json() as { models: Record<string, string> };
      expect(health.models).to.deep.equal({ '40X': 'installed', '100X': 'installed', '200X': 'installed', '400X': 'installed' });
    } finally {
      await close();
    }
  });

  it('npm start\'s entry point serves installed models and exits 0 on SIGTERM', async function () {
    this.timeout(60_000);
    const modelsDir = tmpDir('serve-start');
    await installModel(modelsDir, '200X', { demo: false });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'web', 'start.ts')], {
      cwd: root, env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HISTOSCOPE_MODELS: modelsDir }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let stderr = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /serving at (\S+)/.exec(stderr);
          if (match) resolve(match[1]);
        });
        void exited.then((code) => reject(new Error(`start.ts exited ${code} before serving: ${stderr}`)));
      });
      expect(stderr).not.to.match(/demo models/);
      const health = await (await fetch(`${url}/healthz`)).json() as { models: Record<string, string> };
      expect(health.models['200X']).to.equal('installed');
      expect(health.models['40X']).to.equal('missing');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
