// A weights download as the CLI shows it: a progress bar in megabytes (JSON lines with --json),
// notices on stderr, Ctrl-C keeping the partial file for the next try. Used by `weights fetch`
// and by `train` when it offers to fetch the ImageNet file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createProgress, type Progress } from '../data';
import { histoscopeCacheDir } from '../util/cache-dir';
import { fetchWeights, IMAGENET_WEIGHTS, type FetchWeightsResult, type WeightsEntry } from '../weights';

export interface CliFetchOptions {
  json: boolean;
  env?: NodeJS.ProcessEnv;
  catalogue?: readonly WeightsEntry[];
  signal?: AbortSignal;
}

const MB = 1024 * 1024;

export async function fetchWithProgress(id: string, o: CliFetchOptions): Promise<FetchWeightsResult> {
  const env = o.env ?? process.env;
  const catalogue = o.catalogue ?? IMAGENET_WEIGHTS;
  let bar: Progress | null = null;
  let label = '';
  const started = Date.now();
  let startBytes = -1;
  try {
    return await fetchWeights(id, {
      env, catalogue, signal: o.signal,
      // On a terminal the notice takes the bar's line; the bar redraws below it on its next tick.
      onNotice: (message) => process.stderr.write(o.json ? JSON.stringify({ event: 'notice', message }) + '\n' :
        `${bar && process.stderr.isTTY ? '\r\x1b[K' : ''}${message}\n`),
      onProgress: (received, total) => {
        const whole = total ?? catalogue.find((e) => e.id === id)?.bytes ?? received;
        if (!bar || label !== `${id} ${whole}`) {
          bar?.finish();
          label = `${id} ${whole}`;
          bar = createProgress({ label: `${id} MB`, total: Math.ceil(whole / MB), json: o.json });
        }
        if (startBytes < 0) startBytes = received;
        const secs = (Date.now() - started) / 1000;
        const rate = secs > 0 ? ((received - startBytes) / MB / secs).toFixed(1) : '0.0';
        bar.tick(Math.floor(received / MB), `${rate} MB/s`);
      },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError' || e.code === 'ABORT_ERR') {
      const entry = catalogue.find((c) => c.id === id);
      const part = entry ? path.join(histoscopeCacheDir(env), `${entry.file}.part`) : '';
      const kept = part && fs.existsSync(part) ? fs.statSync(part).size : 0;
      throw new Error(`Stopped the download of ${id}${kept ? `; the ${kept} bytes received are kept in ${part} and the next fetch continues from there` : ''}.`, { cause: err });
    }
    throw err;
  } finally {
    (bar as Progress | null)?.finish();
  }
}
