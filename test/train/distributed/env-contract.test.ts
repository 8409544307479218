// torchrun's environment contract and the strided split, without processes.
import { expect } from 'chai';
import { readDistributedEnv } from '../../../src/train/distributed/env-contract';
import { interleave, strided } from '../../../src/train/distributed/shard';
import { configHash } from '../../../src/train/distributed/config-hash';

describe('distributed: environment contract, sharding, config hash', () => {
  const full = { RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2', MASTER_ADDR: 'node01', MASTER_PORT: '29500' };

  it('reads torchrun\'s variables, and nothing when none are set', () => {
    expect(readDistributedEnv({})).to.equal(null);
    expect(readDistributedEnv(full)).to.deep.equal({ rank: 3, worldSize: 8, localRank: 1, localWorldSize: 2, masterAddr: 'node01', masterPort: 29500 });
    // srun-style: no local pair means one process per node.
    const bare: NodeJS.ProcessEnv = { ...full };
    delete bare.LOCAL_RANK;
    delete bare.LOCAL_WORLD_SIZE;
    expect(readDistributedEnv(bare)).to.include({ localRank: 0, localWorldSize: 1 });
  });

  it('names the variable and the fix when the contract is broken', () => {
    expect(() => readDistributedEnv({ RANK: '0' })).to.throw(/Expected WORLD_SIZE in the environment/);
    expect(() => readDistributedEnv({ ...full, RANK: '8' })).to.throw(/Expected an integer in 0\.\.7 for RANK but received '8'/);
    expect(() => readDistributedEnv({ ...full, MASTER_PORT: 'http' })).to.throw(/MASTER_PORT/);
    expect(() => readDistributedEnv({ ...full, WORLD_SIZE: '0' })).to.throw(/WORLD_SIZE/);
  });

  it('splits like DistributedSampler without padding, and interleave undoes it', () => {
    const items = [0, 1, 2, 3, 4, 5, 6];
    const shares = [0, 1, 2].map((r) => strided(items, r, 3));
    expect(shares).to.deep.equal([[0, 3, 6], [1, 4], [2, 5]]);
    expect(interleave(shares)).to.deep.equal(items);
    // A short last batch: a rank may get nothing, and still every item is served once.
    expect([0, 1, 2].map((r) => strided([9], r, 3))).to.deep.equal([[9], [], []]);
    expect(interleave([[9], [], []])).to.deep.equal([9]);
  });

  it('hashes configurations independently of key order', () => {
    expect(configHash({ a: 1, b: { c: 2, d: 3 } })).to.equal(configHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(configHash({ a: 1 })).to.not.equal(configHash({ a: 2 }));
  });
});
