// How many images are decoded at once, and the libuv pool sized for it. libuv reads
// UV_THREADPOOL_SIZE once, when its pool first starts, so the entry points (src/cli.ts,
// src/web/start.ts) call sizeThreadPool() before anything touches the pool. sharp runs each
// decode on one pool thread; file reads of the decoded-image cache need threads too.
import * as os from 'node:os';

/** Pool threads beyond the decodes: file reads and writes must not queue behind them. */
const IO_THREADS = 4;

/** Decodes in flight by default: one per core, so decoding scales with the machine. */
export function defaultDecodeConcurrency(): number {
  return os.availableParallelism();
}

/** The value of `--decode-concurrency N` or `--decode-concurrency=N` in argv, if any. */
function concurrencyFlag(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag !== '--decode-concurrency') continue;
    const value = Number(inline ?? argv[i + 1]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }
  return undefined;
}

/**
 * Sets UV_THREADPOOL_SIZE (unless the user set it) to the decode concurrency the command line
 * asks for (or the default) plus room for file I/O. Returns the size in force.
 */
export function sizeThreadPool(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): number {
  const chosen = Number(env.UV_THREADPOOL_SIZE);
  if (Number.isInteger(chosen) && chosen > 0) return chosen;
  const size = Math.min(1024, (concurrencyFlag(argv) ?? defaultDecodeConcurrency()) + IO_THREADS);
  env.UV_THREADPOOL_SIZE = String(size);
  return size;
}
