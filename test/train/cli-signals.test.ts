// A scheduler's SIGTERM and a closed terminal's SIGHUP stop `histoscope train` like the first
// Ctrl-C: after the current batch, exit code 130, a run that resumes. Signals need a real process.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { resumeRun } from '../../src/train';
import { syntheticCohort, tmpDir } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const FAST = ['--mag', '100X', '--weights', 'none', '--trainable', 'layer4+fc', '--image-size', '64', '--batch', '8', '--per-class', 'all', '--device', 'cpu'];

interface Outcome { code: number | null; signal: NodeJS.Signals | null; events: { event: string; runDir?: string; epochsCompleted?: number }[] }

/** Runs `histoscope train … --json` in a child and sends `signal` once its first batch is reported. */
async function trainAndSignal(signal: NodeJS.Signals, args: string[]): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli.ts'), 'train', ...args, '--json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Outcome['events'] = [];
  let pending = '';
  let sent = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines.filter((l) => l.trim())) {
      const e = JSON.parse(line) as Outcome['events'][number];
      events.push(e);
      if (e.event === 'batch' && !sent) {
        sent = true;
        child.kill(signal);
      }
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  // Bounded: a child that ignores the signal is killed, and the assertions below say so.
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    const [code, sig] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
    expect(sent, `no batch event; stderr: ${stderr}`).to.equal(true);
    return { code, signal: sig, events };
  } finally {
    clearTimeout(guard);
  }
}

describe('histoscope train under SIGTERM / SIGHUP', function () {
  this.timeout(240_000);

  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} stops after the current batch with exit code 130 and leaves a resumable run`, async () => {
      const data = await syntheticCohort();
      const runs = path.join(tmpDir(`cli-${signal.toLowerCase()}`), 'runs');
      const r = await trainAndSignal(signal, ['--data', data, ...FAST, '--epochs', '1', '--runs', runs]);
      expect(r.signal, 'killed by the signal instead of stopping').to.equal(null);
      expect(r.code).to.equal(130);
      const stopped = r.events.find((e) => e.event === 'interrupted');
      expect(stopped, 'an interrupted event').to.not.equal(undefined);
      expect(r.events.map((e) => e.event)).to.not.include('run-end');
      if (signal !== 'SIGTERM') return;
      const resumed = await resumeRun(stopped!.runDir!);
      expect(resumed.status).to.equal('finished');
      expect(resumed.epochs).to.equal(1);
    });
  }
});
