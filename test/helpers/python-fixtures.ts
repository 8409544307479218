// Runs a fixture script with HISTOSCOPE_PYTHON, else Debian's /usr/bin/python3 (the interpreter
// that imports python3-torch there), into a fresh temp folder, as native/tests does. Returns null,
// after saying why, when the interpreter or its torch is absent, so the calling suite skips visibly.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = process.env.HISTOSCOPE_PYTHON ?? '/usr/bin/python3';

export function makePythonFixtures(script: string, label: string): string | null {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-fixture-'));
  const result = spawnSync(PYTHON, [path.join(REPO_ROOT, 'test', 'fixtures', script), out], { encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    console.log(`      skipped: ${label} needs ${PYTHON} with torch (not found; set HISTOSCOPE_PYTHON)`);
    fs.rmSync(out, { recursive: true, force: true });
    return null;
  }
  if (result.status === 77) {
    console.log(`      skipped: ${label}: ${result.stderr.trim()}`);
    fs.rmSync(out, { recursive: true, force: true });
    return null;
  }
  if (result.status !== 0) throw new Error(`${script} failed (${result.status}): ${result.stderr}`);
  return out;
}
