// The one place that says where Histoscope keeps cached files (ImageNet weights, decoded images):
// `$HISTOSCOPE_CACHE`, else `~/.cache/histoscope`.
import * as os from 'node:os';
import * as path from 'node:path';

/** `$HISTOSCOPE_CACHE`, else `~/.cache/histoscope`. */
export function histoscopeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HISTOSCOPE_CACHE || path.join(os.homedir(), '.cache', 'histoscope'));
}
