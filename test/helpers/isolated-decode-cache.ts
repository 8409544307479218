// Loaded by mocha before any test (.mocharc.json): the decoded-image cache's `auto` folder becomes
// a temporary one, so no test reads or fills ~/.cache/histoscope/decoded. Removed on exit.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DECODE_CACHE_ENV } from '../../src/data/decoded-cache';

if (!process.env[DECODE_CACHE_ENV]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-decoded-'));
  process.env[DECODE_CACHE_ENV] = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}
