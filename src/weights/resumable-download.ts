// Downloads a URL into a `.part` file that survives interruption: a later attempt (in this call,
// or the next command) asks for the rest with an HTTP Range request. 206 appends; a server that
// ignores the range (200) starts the file over; 416 means the part already holds the whole file
// (or a different, shorter one: start over).
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { type GetOptions, HttpGetError, httpGet } from './http-get';

export interface DownloadOptions extends GetOptions {
  /** Attempts in this call; each after a cut connection resumes where the last one stopped. */
  maxAttempts?: number;
  /** Bytes so far and the total when known. */
  onProgress?: (received: number, total: number | null) => void;
  /** Things the user should know (resuming, a server ignoring ranges). */
  onNotice?: (message: string) => void;
}

export interface DownloadResult {
  bytes: number;
  /** Bytes already in the part file when this call began. */
  resumedFrom: number;
  attempts: number;
  /** Where the bytes came from, after redirects. */
  url: string;
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

// `bytes START-END/TOTAL`, or `bytes *` + `/TOTAL` (a 416); TOTAL may be `*`.
export function parseContentRange(header: string | undefined): { start: number | null; total: number | null } | null {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(header?.trim() ?? '');
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function httpError(status: number, message: string | undefined, url: string): HttpGetError {
  const hint = status === 404 ? ' (no such file there: a wrong mirror or URL?)' :
    status === 407 ? ' (the proxy wants credentials: put them in the proxy URL, http://user:password@host:port)' :
      status === 403 ? ' (refused: a firewall or proxy blocking downloads?)' : '';
  return new HttpGetError(`HTTP ${status}${message ? ' ' + message : ''} from ${url}${hint}`, false, status);
}

/** Reads `url` into `partFile`, continuing what is there; resolves when the server's whole body is in it. */
export async function downloadResumable(url: string, partFile: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  const maxAttempts = o.maxAttempts ?? 4;
  const resumedFrom = sizeOf(partFile);
  if (resumedFrom > 0) o.onNotice?.(`Resuming ${partFile} from byte ${resumedFrom}.`);
  for (let attempt = 1; ; attempt++) {
    const start = sizeOf(partFile);
    let gained = 0;
    // The file's own size says where to resume, so the next attempt waits for this one's writes to settle.
    let outClosed: Promise<void> = Promise.resolve();
    try {
      const { response: res, url: from } = await httpGet(new URL(url), { ...o, headers: start > 0 ? { range: `bytes=${start}-` } : {} });
      const status = res.statusCode ?? 0;
      let offset = 0;
      let total: number | null = null;
      if (status === 416 && start > 0) {
        res.resume();
        const range = parseContentRange(res.headers['content-range']);
        if (range?.total === start) return { bytes: start, resumedFrom, attempts: attempt, url: from.href };
        o.onNotice?.(`The server has no bytes after ${start} (${range?.total ?? 'unknown'} in all); starting over.`);
        fs.rmSync(partFile, { force: true });
        if (attempt >= maxAttempts) throw new HttpGetError(`HTTP 416 from ${from.href} for a range starting at ${start}`, false, 416);
        continue;
      } else if (status === 206 && start > 0) {
        const range = parseContentRange(res.headers['content-range']);
        if (range?.start !== start) {
          res.resume();
          throw new HttpGetError(`the server answered a range from byte ${start} with '${res.headers['content-range'] ?? 'no Content-Range'}'`, false, 206);
        }
        offset = start;
        total = range.total;
      } else if (status === 200) {
        if (start > 0) o.onNotice?.('The server does not resume downloads (it ignored the Range request); starting over.');
        const length = Number(res.headers['content-length']);
        total = Number.isFinite(length) && res.headers['content-length'] !== undefined ? length : null;
      } else {
        res.resume();
        throw httpError(status, res.statusMessage, from.href);
      }
      let received = offset;
      o.onProgress?.(received, total);
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          received += chunk.length;
          gained += chunk.length;
          o.onProgress?.(received, total);
          done(null, chunk);
        },
      });
      const out = fs.createWriteStream(partFile, { flags: offset > 0 ? 'a' : 'w' });
      outClosed = new Promise((resolve) => out.once('close', () => resolve()));
      await saveBody(res, counter, out);
      if (total !== null && received < total) {
        throw new HttpGetError(`the connection closed after ${received} of ${total} bytes`, true);
      }
      return { bytes: received, resumedFrom, attempts: attempt, url: from.href };
    } catch (err) {
      await outClosed;
      const e = err as NodeJS.ErrnoException;
      if (e.name === 'AbortError' || e.code === 'ABORT_ERR') throw err;
      // A cut body: retry from where it stopped, as long as the last attempt made progress.
      const network = err instanceof HttpGetError ? err.network : true;
      if (!network || gained === 0 || attempt >= maxAttempts) {
        throw err instanceof HttpGetError ? err : new HttpGetError(`${describeCut(e)} after ${sizeOf(partFile)} bytes`, true);
      }
      o.onNotice?.(`The download stopped after ${sizeOf(partFile)} bytes (${describeCut(e)}); resuming.`);
    }
  }
}

/**
 * Pipes the body into the file. When the body fails midway (a cut connection, a timeout, Ctrl-C)
 * what already arrived is still written out before the failure is reported, so a retry resumes
 * after the last byte received rather than the last byte that happened to reach the disk.
 */
function saveBody(res: IncomingMessage, counter: Transform, out: fs.WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = err;
      res.unpipe(counter);
      counter.end();
    };
    res.on('error', fail);
    // 'aborted' comes before the 'error' that says why (an idle timeout); it only decides when none follows.
    res.on('aborted', () => setImmediate(() => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }))));
    out.once('error', (err) => {
      res.destroy();
      reject(err);
    });
    out.once('close', () => (failed ? reject(failed) : resolve()));
    res.pipe(counter).pipe(out);
  });
}

function describeCut(err: NodeJS.ErrnoException): string {
  if (err.code === 'HISTOSCOPE_IDLE') return `no data for ${err.message}`;
  return `the connection was cut (${err.code ?? err.message})`;
}
