// One download of a file at a time: two processes appending to the same `.part` file would
// interleave their bytes. The lock file holds its owner's pid, so a killed owner's lock is taken over.
import * as fs from 'node:fs';
import { processAlive } from '../util/stale-temp-files';

/** Takes the lock or throws naming the process that holds it; returns the release function. */
export function acquireDownloadLock(lockFile: string, what: string): () => void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (processAlive(owner)) {
        throw new Error(`Another Histoscope process (pid ${owner}) is downloading ${what}; wait for it to finish (or delete ${lockFile} if that process is not Histoscope).`, { cause: err });
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not take the download lock ${lockFile}; delete it and try again.`);
}
