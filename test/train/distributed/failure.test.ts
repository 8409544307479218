// Failure is loud, never a hang: ranks launched with torchrun's environment (as srun or torchrun
// would) form a world; a killed rank makes the survivor exit non-zero within the timeout naming
// it; different configurations and a busy MASTER_PORT are refused with messages that say so.
import { expect } from 'chai';
import * as net from 'node:net';
import * as path from 'node:path';
import { syntheticCohort, tmpDir } from '../helpers';
import { freePort, rankEnv, startCli } from './dist-helpers';

const ARGS = ['--mag', '100X', '--weights', 'none', '--trainable', 'fc', '--image-size', '32', '--batch', '4', '--per-class', 'all',
  '--device', 'cpu', '--epochs', '3', '--json'];

describe('distributed training failures', function () {
  this.timeout(300_000);

  it('a torchrun-style world trains, and killing rank 1 makes rank 0 exit non-zero naming it', async () => {
    const data = await syntheticCohort();
    const base = tmpDir('dist-kill');
    const port = await freePort();
    const args = ['train', '--data', data, ...ARGS, '--runs', path.join(base, 'runs'), '--dist-timeout', '20'];
    const env = { HISTOSCOPE_DECODE_CACHE: path.join(base, 'cache') };
    const rank0 = startCli(args, { ...env, ...rankEnv(0, 2, port) });
    const rank1 = startCli(args, { ...env, ...rankEnv(1, 2, port) });
    // Both ranks are in the world once rank 0 reports a batch (each step is a collective).
    await rank0.waitFor('"event":"batch"');
    const killedAt = Date.now();
    rank1.child.kill('SIGKILL');
    const [r0, r1] = await Promise.all([rank0.done, rank1.done]);
    expect(r1.signal).to.equal('SIGKILL');
    expect(r0.code, r0.stderr).to.not.equal(0);
    expect(r0.signal).to.equal(null);
    expect(Date.now() - killedAt, 'rank 0 gave up within the timeout').to.be.below(20_000 + 15_000);
    expect(r0.stderr).to.match(/rank 1 stopped responding/);
  });

  it('ranks running different configurations are refused at rendezvous, naming the hashes', async () => {
    const data = await syntheticCohort();
    const base = tmpDir('dist-config');
    const port = await freePort();
    const args = (seed: string): string[] => ['train', '--data', data, ...ARGS, '--seed', seed, '--runs', path.join(base, 'runs'), '--dist-timeout', '20'];
    const [r0, r1] = await Promise.all([
      startCli(args('1'), rankEnv(0, 2, port)).done,
      startCli(args('2'), rankEnv(1, 2, port)).done,
    ]);
    expect(r0.code).to.not.equal(0);
    expect(r1.code).to.not.equal(0);
    expect(r0.stderr + r1.stderr).to.match(/Configuration mismatch: rank \d has configuration hash [0-9a-f]{16} but rank \d has [0-9a-f]{16}/);
  });

  it('a busy MASTER_PORT is named, and a bad environment is explained', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await startCli(['train', '--data', '/nonexistent', ...ARGS, '--dist-timeout', '5'], rankEnv(0, 2, port)).done;
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.include(`port ${port}`).and.to.include('MASTER_PORT');
    } finally {
      server.close();
    }
    const bad = await startCli(['train', '--data', '/nonexistent', ...ARGS], { RANK: '0', WORLD_SIZE: '2' }).done;
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include('Expected MASTER_ADDR in the environment');
  });
});
