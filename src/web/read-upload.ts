// Reads one uploaded image into memory, from a multipart form (field "image") or from a raw
// request body, never past the size cap nor past the upload budget. Uploads are never written to
// disk, so no client-chosen name ever becomes a path. What can be refused from the headers alone
// (declared size, content type) is refused before a byte of the body is read; a refusal while
// reading discards the rest of the body and the answer closes the connection gracefully.
import busboy from 'busboy';
import type { Request, Response } from 'express';

import { megabytes } from '../data/image-input-policy';
import { HttpError } from './http-error';
import { inviteBody } from './http-server';
import type { Allowance } from './upload-budget';
import { concatUpload, uploadBuffer } from './upload-memory';

export interface Upload {
  image: Buffer | undefined;
  /** The client's file name, only for reading a BreakHis magnification and for display. */
  fileName: string | undefined;
  fields: Record<string, string>;
}

export interface ReadOptions {
  maxBytes: number;
  /** This upload's share of the in-flight byte budget, grown as bytes arrive. */
  allowance: Allowance;
  /** The refusal when the budget has no room left. */
  overBudget: () => HttpError;
}

const MULTIPART_OVERHEAD = 64 * 1024;
/** The form fields this server reads. */
const KNOWN_FIELDS = new Set(['image', 'mag', 'gradcam', 'method', 'explain']);
const FORM_LIMITS = { fileSize: 0, files: 1, fields: 8, fieldSize: 1024, parts: 12, headerPairs: 64 };

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `The upload is larger than this server's limit of ${megabytes(maxBytes)}. Send a smaller image (BreakHis images are under 1 MB).`);
}

/** `mag[]`, `mag[0]`: a list where one value is expected. */
export function listFieldError(name: string): HttpError | undefined {
  const base = /^([a-z]+)\[[^\]]*\]$/i.exec(name)?.[1];
  if (!base || !KNOWN_FIELDS.has(base.toLowerCase())) return undefined;
  return new HttpError(400, `The field "${name.slice(0, 20)}" is a list, but this server takes one value: send it once, as the field "${base.toLowerCase()}".`);
}

export function repeatedFieldError(name: string): HttpError {
  return new HttpError(400, `The field "${name.slice(0, 20)}" was sent more than once; send it once.`);
}

/** The body size the headers promise, after refusing what the headers alone rule out. */
export function expectedBodyBytes(req: Request, maxBytes: number): number {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) throw tooLarge(maxBytes);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('application/json') || type.startsWith('text/')) {
    throw new HttpError(415, 'Send the image as a multipart form field named "image", or as the raw request body (Content-Type: image/png or image/jpeg).');
  }
  return Number.isFinite(declared) && declared > 0 ? declared : 0;
}

/** Stops reading: the rest of the body is discarded (the answer then closes the connection). */
function discard(req: Request): void {
  req.unpipe();
  req.removeAllListeners('data');
  req.resume();
}

/** Counts `--boundary` delimiters in a stream, across chunk edges: parts = delimiters - 1. */
function delimiterCounter(boundary: string): { feed: (chunk: Buffer) => void; count: () => number } {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The first delimiter opens the body without a CRLF before it.
  let tail = Buffer.from('\r\n');
  let count = 0;
  const occurrences = (buf: Buffer, below = Infinity): number => {
    let n = 0;
    for (let i = buf.indexOf(delimiter); i >= 0 && i < below; i = buf.indexOf(delimiter, i + 1)) n++;
    return n;
  };
  return {
    feed: (chunk) => {
      // Delimiters that start in the previous tail, then those wholly inside this chunk.
      count += occurrences(Buffer.concat([tail, chunk.subarray(0, delimiter.length - 1)]), tail.length) + occurrences(chunk);
      const keep = Buffer.concat([tail, chunk]);
      tail = Buffer.from(keep.subarray(Math.max(0, keep.length - (delimiter.length - 1))));
    },
    count: () => count,
  };
}

function readRaw(req: Request, options: ReadOptions, expected: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // One buffer of the promised size when the length is known: no chunk list and no copy at the end.
    const whole = expected > 0 && expected <= options.maxBytes ? uploadBuffer(expected) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: HttpError): void => {
      discard(req);
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) return stop(tooLarge(options.maxBytes));
      if (!options.allowance.cover(size)) return stop(options.overBudget());
      if (whole && size <= whole.length) chunk.copy(whole, size - chunk.length);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(whole && size === whole.length ? whole : concatUpload(chunks, size)));
    req.on('error', () => reject(new HttpError(400, 'The upload was interrupted before it finished.')));
  });
}

function readMultipart(req: Request, options: ReadOptions): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const upload: Upload = { image: undefined, fileName: undefined, fields: {} };
    let failed = false;
    const fail = (err: HttpError): void => {
      if (failed) return;
      failed = true;
      discard(req);
      reject(err);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { ...FORM_LIMITS, fileSize: options.maxBytes } });
    } catch {
      reject(new HttpError(400, 'The form could not be read: the multipart boundary is missing from the Content-Type header.'));
      return;
    }
    // busboy skips, silently, a part whose Content-Disposition it cannot parse: count the parts to notice.
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(req.headers['content-type'] ?? '');
    const delimiters = delimiterCounter((boundary?.[1] ?? boundary?.[2] ?? '').trim());
    let partsRead = 0;
    let otherFile: string | undefined;
    let imageAsText = false;
    const malformed = (): void => fail(new HttpError(400, 'The form could not be read: the multipart body is malformed or incomplete.'));
    parser.on('file', (name, stream, info) => {
      partsRead++;
      // A file stream's error (e.g. the body ends mid-file) must be handled, or it would crash the process.
      stream.on('error', malformed);
      if (name !== 'image') {
        otherFile ??= name.slice(0, 20);
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => fail(tooLarge(options.maxBytes)));
      stream.on('close', () => {
        if (failed) return;
        upload.image = concatUpload(chunks, size);
        chunks.length = 0;
        // Only the last path component, and only printable characters: it is shown, never used as a path.
        upload.fileName = (info.filename ?? '').split(/[\\/]/).pop()?.replace(/[^\x20-\x7e]/g, '').slice(0, 200) || undefined;
      });
    });
    parser.on('field', (name, value, info) => {
      partsRead++;
      const list = listFieldError(name);
      if (list) return fail(list);
      if (Object.prototype.hasOwnProperty.call(upload.fields, name) && KNOWN_FIELDS.has(name)) return fail(repeatedFieldError(name));
      if (info.valueTruncated && KNOWN_FIELDS.has(name)) return fail(new HttpError(400, `The field "${name}" is longer than ${FORM_LIMITS.fieldSize} characters.`));
      if (name === 'image') imageAsText = true;
      else upload.fields[name] = value;
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'The form holds more than one file; send one image per request.')));
    parser.on('fieldsLimit', () => fail(new HttpError(400,
      `The form has more than ${FORM_LIMITS.fields} fields; this server reads only "image", "mag", "gradcam", "method" and "explain".`)));
    parser.on('partsLimit', () => fail(new HttpError(400,
      `The form has more than ${FORM_LIMITS.parts} parts; send only the fields "image", "mag", "gradcam", "method" and "explain".`)));
    parser.on('error', malformed);
    parser.on('close', () => {
      if (failed) return;
      if (delimiters.count() - 1 > partsRead) {
        return fail(new HttpError(400, 'The form could not be read: a part has a malformed Content-Disposition header ' +
          '(for example a file name containing a raw " character). Rename the file and retry.'));
      }
      if (!upload.image && imageAsText) {
        return fail(new HttpError(400, 'No image was uploaded: the field "image" holds text, not a file. Send the file itself (curl -F image=@slide.png).'));
      }
      if (!upload.image && otherFile) {
        return fail(new HttpError(400, `No image was uploaded in the field "image": the file came in the field "${otherFile}". Name the file field "image".`));
      }
      resolve(upload);
    });
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      delimiters.feed(chunk);
      received += chunk.length;
      if (!options.allowance.cover(received)) fail(options.overBudget());
    });
    req.on('error', () => fail(new HttpError(400, 'The upload was interrupted before it finished.')));
    req.pipe(parser);
  });
}

/** Reads the body (call expectedBodyBytes first); asks a client that sent `Expect: 100-continue` for it. */
export async function readUpload(req: Request, res: Response, options: ReadOptions, expected: number): Promise<Upload> {
  inviteBody(req, res);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req, options);
  const body = await readRaw(req, options, expected);
  // An empty body with an image Content-Type is an empty file; with none, nothing was sent.
  return { image: body.length > 0 || type ? body : undefined, fileName: undefined, fields: {} };
}
