// torchrun's environment contract: a process started with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT joins that world (torchrun, `srun` under SLURM,
// Kubernetes jobs and `histoscope train --nproc-per-node` all set them).
import { invalid } from '../../util/expect';

export interface DistributedEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
}

export const DIST_ENV_NAMES = ['RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'] as const;

function integerVariable(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number {
  const text = env[name] ?? '';
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`an integer in ${min}..${max}`, name, text);
  return value;
}

/** The world this process belongs to, or null when WORLD_SIZE and RANK are both unset (a plain run). */
export function readDistributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  if (env.WORLD_SIZE === undefined && env.RANK === undefined) return null;
  for (const name of ['RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT']) {
    if (env[name] === undefined || env[name] === '') {
      throw new Error(`Expected ${name} in the environment of a distributed run (set with RANK/WORLD_SIZE) but it is unset; ` +
        'launch with `histoscope train --nproc-per-node N` or torchrun, which set all of ' + DIST_ENV_NAMES.join(', ') + '.');
    }
  }
  const worldSize = integerVariable(env, 'WORLD_SIZE', 1, 65536);
  const rank = integerVariable(env, 'RANK', 0, worldSize - 1);
  // torchrun always sets the local pair; a bare RANK/WORLD_SIZE launch means one process per node.
  const localWorldSize = env.LOCAL_WORLD_SIZE === undefined ? 1 : integerVariable(env, 'LOCAL_WORLD_SIZE', 1, worldSize);
  const localRank = env.LOCAL_RANK === undefined ? 0 : integerVariable(env, 'LOCAL_RANK', 0, localWorldSize - 1);
  const masterAddr = env.MASTER_ADDR!.trim();
  const masterPort = integerVariable(env, 'MASTER_PORT', 1, 65535);
  return { rank, worldSize, localRank, localWorldSize, masterAddr, masterPort };
}

/** The variables a worker is started with (what torchrun sets). */
export function distributedEnvVariables(d: DistributedEnv): Record<string, string> {
  return {
    RANK: String(d.rank), WORLD_SIZE: String(d.worldSize), LOCAL_RANK: String(d.localRank),
    LOCAL_WORLD_SIZE: String(d.localWorldSize), MASTER_ADDR: d.masterAddr, MASTER_PORT: String(d.masterPort),
  };
}
