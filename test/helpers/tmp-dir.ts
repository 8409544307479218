// Temporary folders for tests, named after what they hold and removed when mocha exits.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];

export function tmpDir(label: string): string {
  if (made.length === 0) process.once('exit', () => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `histoscope-${label}-`));
  made.push(dir);
  return dir;
}
