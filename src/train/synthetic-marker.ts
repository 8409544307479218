// Tells whether a dataset folder is the synthetic generator's output, so models trained on it are
// marked demo and never mistaken for ones trained on tissue. `histoscope synth` writes synth.json
// and a README starting "SYNTHETIC IMAGES - NOT TISSUE" at its root and in BreaKHis_v1/.
import * as fs from 'node:fs';
import * as path from 'node:path';

const README_MARK = 'SYNTHETIC IMAGES - NOT TISSUE';

function marked(dir: string): boolean {
  if (fs.existsSync(path.join(dir, 'synth.json'))) return true;
  try {
    return fs.readFileSync(path.join(dir, 'README.md'), 'utf8').startsWith(README_MARK);
  } catch {
    return false;
  }
}

/** True when `dir` or one of its parents (the manifest root may be a subfolder) carries the marker. */
export function isSyntheticDataset(dir: string): boolean {
  let d = path.resolve(dir);
  for (let i = 0; i < 6; i++) {
    if (marked(d)) return true;
    const parent = path.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  return false;
}
