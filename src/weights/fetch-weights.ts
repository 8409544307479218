// `histoscope weights fetch imagenet-v1`: torchvision's file, downloaded into Histoscope's cache
// folder under torchvision's name, checked on its whole sha256 and only then renamed into place.
// A copy already there (or in torch hub's cache) that verifies is used as it is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { histoscopeCacheDir } from '../util/cache-dir';
import { expectOneOf } from '../util/expect';
import { sha256File } from '../util/sha256-file';
import { IMAGENET_WEIGHTS, type WeightsEntry, weightsUrl } from './catalogue';
import { acquireDownloadLock } from './download-lock';
import { HttpGetError } from './http-get';
import { listWeights, torchHubCheckpointsDir } from './locations';
import { FetchWeightsError, manualSteps } from './manual-steps';
import { type DownloadOptions, downloadResumable } from './resumable-download';

export interface FetchWeightsOptions extends Omit<DownloadOptions, 'env'> {
  env?: NodeJS.ProcessEnv;
  /** The files known; production uses IMAGENET_WEIGHTS (tests give their own fixtures and a mirror on 127.0.0.1). */
  catalogue?: readonly WeightsEntry[];
}

export interface FetchWeightsResult {
  entry: WeightsEntry;
  file: string;
  sha256: string;
  /** 'present': a verified copy was already there; nothing was downloaded. */
  status: 'downloaded' | 'present';
  bytes: number;
  /** Bytes a previous, interrupted download had left, reused through a Range request. */
  resumedFrom: number;
  url: string | null;
}

async function syncAndRename(from: string, to: string): Promise<void> {
  const handle = await fs.promises.open(from, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(from, to);
}

/** Downloads (or finds) the weights `id` names and returns the verified file. */
export async function fetchWeights(id: string, o: FetchWeightsOptions = {}): Promise<FetchWeightsResult> {
  const env = o.env ?? process.env;
  const catalogue = o.catalogue ?? IMAGENET_WEIGHTS;
  const ids = catalogue.map((e) => e.id);
  const entry = catalogue[ids.indexOf(expectOneOf(id, 'weights name', ids))];
  const copies = await listWeights([entry], env);
  const good = copies.find((c) => c.verified);
  if (good) return { entry, file: good.file, sha256: good.sha256, status: 'present', bytes: good.bytes, resumedFrom: 0, url: null };
  for (const bad of copies) o.onNotice?.(`${bad.file} has sha256 ${bad.sha256}, not ${entry.sha256}: it is not torchvision's file (damaged or truncated); downloading a good copy.`);

  const dir = histoscopeCacheDir(env);
  await fs.promises.mkdir(dir, { recursive: true });
  const target = path.join(dir, entry.file);
  const part = `${target}.part`;
  const url = weightsUrl(entry, env);
  const steps = manualSteps(entry, weightsUrl(entry, {}), dir, torchHubCheckpointsDir(env));
  const release = acquireDownloadLock(path.join(dir, `.${entry.file}.lock`), `${entry.file} into ${dir}`);
  try {
    for (let fresh = 0; ; fresh++) {
      let result;
      try {
        result = await downloadResumable(url, part, { ...o, env });
      } catch (err) {
        if (!(err instanceof HttpGetError)) throw err;
        const kept = fs.existsSync(part) ? fs.statSync(part).size : 0;
        const keptNote = kept > 0 ? ` The ${kept} bytes received are kept in ${part}; running this again continues from there.` : '';
        throw new FetchWeightsError(`Could not download ${entry.file} (torchvision ${entry.torchvisionName}) from ${url}: ${err.message}.${keptNote}`, steps);
      }
      const sha256 = await sha256File(part);
      if (sha256 === entry.sha256) {
        await syncAndRename(part, target);
        return { entry, file: target, sha256, status: 'downloaded', bytes: result.bytes, resumedFrom: result.resumedFrom, url: result.url };
      }
      fs.rmSync(part, { force: true });
      // Bytes kept from an earlier attempt may have come from another version of the file: once, from scratch.
      if (result.resumedFrom > 0 && fresh === 0) {
        o.onNotice?.(`The resumed download of ${entry.file} does not match its sha256; downloading it again from the start.`);
        continue;
      }
      throw new FetchWeightsError(`Refused ${entry.file} from ${result.url}: its sha256 is ${sha256}, expected ${entry.sha256} ` +
        `(${result.bytes} bytes, expected ${entry.bytes}). It is not torchvision's file (an error page from a proxy, or a damaged mirror?); nothing was kept in ${dir}.`, steps);
    }
  } finally {
    release();
  }
}
