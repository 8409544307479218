// Reads one uploaded image into memory, from a multipart form (field "image") or from a raw
// request body, never past the size cap. Uploads are never written to disk, so no client-chosen
// name ever becomes a path. When the cap is hit the rest of the body is drained (up to a bound)
// so the client reads a 413 instead of a reset connection.
import busboy from 'busboy';
import type { Request } from 'express';

import { HttpError } from './http-error';

export interface Upload {
  image: Buffer | undefined;
  /** The client's file name, only for reading a BreakHis magnification and for display. */
  fileName: string | undefined;
  fields: Record<string, string>;
}

const MULTIPART_OVERHEAD = 64 * 1024;

function megabytes(bytes: number): string {
  return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, `The upload is larger than this server's limit of ${megabytes(maxBytes)}. Send a smaller image (BreakHis images are under 1 MB).`,
    { Connection: 'close' });
}

/** Keeps reading and discarding the body so the response can be delivered; gives up on floods. */
function drain(req: Request, maxBytes: number): void {
  let seen = 0;
  req.unpipe();
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > 4 * maxBytes + MULTIPART_OVERHEAD) req.destroy();
  });
  req.resume();
}

function readRaw(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        drain(req, maxBytes);
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new HttpError(400, 'The upload was interrupted before it finished.')));
  });
}

function readMultipart(req: Request, maxBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const upload: Upload = { image: undefined, fileName: undefined, fields: {} };
    let failed = false;
    const fail = (err: HttpError): void => {
      if (failed) return;
      failed = true;
      drain(req, maxBytes);
      reject(err);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: maxBytes, files: 1, fields: 8, fieldSize: 1024, parts: 12, headerPairs: 64 },
      });
    } catch {
      reject(new HttpError(400, 'The form could not be read: the multipart boundary is missing from the Content-Type header.'));
      return;
    }
    const malformed = (): void => fail(new HttpError(400, 'The form could not be read: the multipart body is malformed or incomplete.'));
    parser.on('file', (name, stream, info) => {
      // A file stream's error (e.g. the body ends mid-file) must be handled, or it would crash the process.
      stream.on('error', malformed);
      if (name !== 'image') {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(tooLarge(maxBytes)));
      stream.on('close', () => {
        if (failed) return;
        upload.image = Buffer.concat(chunks);
        // Only the last path component, and only printable characters: it is shown, never used as a path.
        upload.fileName = (info.filename ?? '').split(/[\\/]/).pop()?.replace(/[^\x20-\x7e]/g, '').slice(0, 200) || undefined;
      });
    });
    parser.on('field', (name, value) => {
      upload.fields[name] = value;
    });
    parser.on('error', malformed);
    parser.on('close', () => {
      if (!failed) resolve(upload);
    });
    req.on('error', () => fail(new HttpError(400, 'The upload was interrupted before it finished.')));
    req.pipe(parser);
  });
}

export async function readUpload(req: Request, maxBytes: number): Promise<Upload> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) {
    drain(req, maxBytes);
    throw tooLarge(maxBytes);
  }
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req, maxBytes);
  if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('application/json') || type.startsWith('text/')) {
    drain(req, maxBytes);
    throw new HttpError(415, 'Send the image as a multipart form field named "image", or as the raw request body (Content-Type: image/png or image/jpeg).');
  }
  const body = await readRaw(req, maxBytes);
  // An empty body with an image Content-Type is an empty file; with none, nothing was sent.
  return { image: body.length > 0 || type ? body : undefined, fileName: undefined, fields: {} };
}
