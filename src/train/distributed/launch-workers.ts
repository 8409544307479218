// `histoscope train --nproc-per-node N`: starts N workers of the same command on this machine with
// torchrun's environment (rank = local rank, one world on 127.0.0.1 at a free port unless
// MASTER_ADDR/MASTER_PORT are given), and watches them as torchrun does: when one fails, the
// others are stopped and the launcher exits non-zero naming it; Ctrl-C is passed on to every
// worker, which stop together at a batch boundary and leave the run resumable.
import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { distributedEnvVariables, type DistributedEnv } from './env-contract';

export interface LaunchOptions {
  nprocPerNode: number;
  /** The program and arguments of each worker (the CLI without --nproc-per-node). */
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Seconds a worker may take to stop after its siblings failed, before it is killed. */
  stopGraceSeconds?: number;
  log?: (line: string) => void;
}

export interface LaunchResult {
  /** 0 when every worker succeeded; else the first failure's code (128 + signal for a signal). */
  exitCode: number;
  failedRank?: number;
}

/** A TCP port on 127.0.0.1 nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGABRT: 6 };

export async function launchWorkers(o: LaunchOptions): Promise<LaunchResult> {
  const log = o.log ?? ((line: string): void => { process.stderr.write(`${line}\n`); });
  const base = o.env ?? process.env;
  const masterAddr = base.MASTER_ADDR ?? '127.0.0.1';
  const masterPort = base.MASTER_PORT ? Number(base.MASTER_PORT) : await freePort();
  const children: ChildProcess[] = [];
  let failure: LaunchResult | undefined;
  let stopping = false;

  const stopOthers = (signal: NodeJS.Signals): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
    const timer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, (o.stopGraceSeconds ?? 30) * 1000);
    timer.unref();
  };
  // Ctrl-C reaches only the launcher (workers run in their own process group) and is passed on
  // once: workers stop together at a batch boundary; a second Ctrl-C makes them quit at once.
  const onSignal = (signal: NodeJS.Signals): void => {
    stopping = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const exits = [];
  for (let rank = 0; rank < o.nprocPerNode; rank++) {
    const d: DistributedEnv = { rank, worldSize: o.nprocPerNode, localRank: rank, localWorldSize: o.nprocPerNode, masterAddr, masterPort };
    const child = spawn(o.command, o.args, { stdio: 'inherit', detached: true, env: { ...base, ...distributedEnvVariables(d) } });
    children.push(child);
    exits.push(new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        const exitCode = code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 1);
        if (exitCode !== 0 && !failure) {
          failure = { exitCode, failedRank: rank };
          if (!stopping) {
            log(`histoscope: rank ${rank} (pid ${child.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}; stopping the other ranks.`);
            stopping = true;
            stopOthers('SIGTERM');
          }
        }
        resolve();
      });
      child.once('error', (err) => {
        if (!failure) failure = { exitCode: 1, failedRank: rank };
        log(`histoscope: could not start rank ${rank}: ${err.message}`);
        stopOthers('SIGTERM');
        resolve();
      });
    }));
  }
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  return failure ?? { exitCode: 0 };
}
