// A training process's place in a data-parallel world: its rank and the process group, with the
// few collectives the training loop needs in JSON/number form. Every method is collective: all
// ranks call it, in the same order.
import { type DistBackend, Model, ProcessGroup } from '../../native';
import type { DistributedEnv } from './env-contract';
import { interleave, strided } from './shard';

export interface DistributedSettings {
  env: DistributedEnv;
  backend: DistBackend;
  timeoutSeconds: number;
}

export class DistributedContext {
  private constructor(readonly env: DistributedEnv, readonly backend: DistBackend, readonly group: ProcessGroup) {}

  static async join(settings: DistributedSettings, configHash: string): Promise<DistributedContext> {
    const { env } = settings;
    const group = await ProcessGroup.create({
      backend: settings.backend, masterAddr: env.masterAddr, masterPort: env.masterPort, rank: env.rank,
      worldSize: env.worldSize, localRank: env.localRank, timeoutMs: Math.round(settings.timeoutSeconds * 1000), configHash,
    });
    return new DistributedContext(env, settings.backend, group);
  }

  get rank(): number {
    return this.env.rank;
  }

  get worldSize(): number {
    return this.env.worldSize;
  }

  /** Rank 0 alone writes the run folder, checkpoints, logs and plots. */
  get isWriter(): boolean {
    return this.env.rank === 0;
  }

  /** Rank 0's value on every rank (decided once, there). */
  async broadcastJson<T>(value: T | undefined): Promise<T> {
    const bytes = this.isWriter ? Buffer.from(JSON.stringify(value ?? null)) : Buffer.alloc(0);
    return JSON.parse((await this.group.broadcastBytes(bytes, 0)).toString('utf8')) as T;
  }

  /** Each rank's value, in rank order, on every rank. */
  async allgatherJson<T>(value: T): Promise<T[]> {
    const all = await this.group.allgatherBytes(Buffer.from(JSON.stringify(value)));
    return all.map((b) => JSON.parse(b.toString('utf8')) as T);
  }

  /** Whether any rank says yes (e.g. "I was interrupted"): all ranks stop at the same step. */
  async anyRank(flag: boolean): Promise<boolean> {
    const all = await this.group.allgatherBytes(Uint8Array.of(flag ? 1 : 0));
    return all.some((b) => b[0] === 1);
  }

  /** This rank's share of a list (DistributedSampler's strided split). */
  shard<T>(items: readonly T[]): T[] {
    return strided(items, this.rank, this.worldSize);
  }

  /** Every rank's share of per-item results, back in the list's order. */
  async gatherShards<T>(mine: readonly T[]): Promise<T[]> {
    return interleave(await this.allgatherJson(mine));
  }

  /** The device this rank trains on: NCCL drives one GPU per rank, chosen by LOCAL_RANK as torchrun users expect. */
  device(configured: string): string {
    return this.backend === 'nccl' ? `cuda:${this.env.localRank}` : configured;
  }

  /** Joins `model` to the world; `syncBatchNorm`: BatchNorm statistics over the global batch. */
  attach(model: Model, syncBatchNorm = false): Promise<void> {
    return this.group.attach(model, { syncBatchNorm });
  }

  /** Returns once every rank has called it (e.g. rank 0 has written a file the others read next). */
  barrier(): Promise<void> {
    return this.group.barrier();
  }

  close(): void {
    this.group.close();
  }
}
