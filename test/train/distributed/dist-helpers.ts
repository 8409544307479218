// Spawning real `histoscope train` ranks for the distributed tests: Gloo over 127.0.0.1, one
// intra-op thread per rank (two ranks share the two cores), bounded by a kill timer.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { freePort } from '../../../src/train/distributed/launch-workers';

export const ROOT = path.join(__dirname, '..', '..', '..');
export const CLI = ['--import', 'tsx', path.join(ROOT, 'src', 'cli.ts')];

export interface Finished { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface Started {
  child: ChildProcess;
  /** Resolves on exit; the child is SIGKILLed after `limitMs`. */
  done: Promise<Finished>;
  /** Resolves when stdout has shown a line containing `text`. */
  waitFor(text: string): Promise<void>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, limitMs = 180_000): Started {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HISTOSCOPE_THREADS: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    for (const w of waiters.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const guard = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = once(child, 'exit').then(([code, signal]) => {
    clearTimeout(guard);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  const waitFor = (text: string): Promise<void> => new Promise((resolve) => {
    if (stdout.includes(text)) resolve();
    else waiters.push({ text, resolve });
  });
  return { child, done, waitFor };
}

/** torchrun's variables for rank `rank` of a world on 127.0.0.1:`port`. */
export function rankEnv(rank: number, worldSize: number, port: number): NodeJS.ProcessEnv {
  return {
    RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(worldSize),
    MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
  };
}

export { freePort };
