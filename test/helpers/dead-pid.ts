// A process id that belongs to no process: the pid of a child that has already exited.
import { spawnSync } from 'node:child_process';

export function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  try {
    process.kill(pid, 0);
  } catch {
    return pid;
  }
  throw new Error(`pid ${pid} was reused at once; run the test again`);
}
