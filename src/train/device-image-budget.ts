// How many bytes of decoded images may live on the model's device. On CUDA the default is half
// the GPU's free memory as nvidia-smi reports it (libtorch's C++ API has no portable query), and
// a fixed 4 GiB when it cannot be asked; on the CPU a quarter of the free RAM.
import { execFile } from 'node:child_process';
import * as os from 'node:os';

const GIB = 2 ** 30;

export interface DeviceImageBudget {
  bytes: number;
  /** Where the number came from, for the run's log. */
  source: string;
}

function nvidiaSmiFreeBytes(index: number): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits', `--id=${index}`],
      { timeout: 5000 }, (err, stdout) => {
        const mib = Number(String(stdout).trim().split('\n')[0]);
        resolve(err || !Number.isFinite(mib) || mib <= 0 ? null : mib * 2 ** 20);
      });
  });
}

/** `device` is the model's resolved device ('cpu', 'cuda:0', ...); `megabytes` a user's override. */
export async function deviceImageBudget(device: string, megabytes: number | null): Promise<DeviceImageBudget> {
  if (megabytes !== null) return { bytes: megabytes * 2 ** 20, source: 'the configured budget' };
  if (!device.startsWith('cuda')) return { bytes: os.freemem() / 4, source: 'a quarter of the free RAM' };
  const free = await nvidiaSmiFreeBytes(Number(device.split(':')[1] ?? 0));
  return free === null
    ? { bytes: 4 * GIB, source: '4 GiB (nvidia-smi did not report free memory)' }
    : { bytes: free / 2, source: 'half the free GPU memory' };
}
