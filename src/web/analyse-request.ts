// A request with an uploaded image → an analysis, shared by the JSON API and the form page.
// Cheapest refusals first, all before the body is read: what the headers rule out (size, type),
// a repeated parameter, a full queue, a full upload budget. Then read the upload (capped), choose
// the magnification, check the bytes are a PNG/JPEG of an acceptable size, check a model exists,
// and queue the work; a client that leaves meanwhile gives its place back. Every refusal is an
// HttpError with a sentence for a person.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

import { analyseImage, type Analysis, ImageReadError, MissingModelError, type ModelRegistry, type ModelSlot } from '../infer';
import { checkImage } from './check-image';
import { HttpError } from './http-error';
import { requestMagnification } from './magnification-param';
import { parseCamMethod } from './method-param';
import { expectedBodyBytes, listFieldError, readUpload, repeatedFieldError } from './read-upload';
import type { UploadBudget } from './upload-budget';
import type { WebOptions } from './web-options';
import { AbandonedError, type WorkQueue } from './work-queue';

export interface AnalysedRequest {
  magnification: ModelSlot;
  fileName: string | undefined;
  /** sha256 of the uploaded bytes, hex. */
  sha256: string;
  analysis: Analysis;
}

/** What the client asked for, known even when the analysis is refused (the form shows it again). */
export interface SubmittedForm {
  mag?: string;
  method?: string;
  fileName?: string;
}

const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on']);

export interface AnalyseContext {
  registry: ModelRegistry;
  queue: WorkQueue;
  uploads: UploadBudget;
  options: WebOptions;
}

/** Query parameters, each given at most once. */
function queryParams(req: Request): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
    const list = listFieldError(name);
    if (list) throw list;
    if (Array.isArray(value)) throw repeatedFieldError(name);
    if (typeof value === 'string') params[name] = value;
  }
  return params;
}

/** The class Grad-CAM explains: `benign`, `malignant`, or the predicted one (absent, empty or `predicted`). */
export function explainedClass(raw: string | undefined): 0 | 1 | undefined {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === '' || value === 'predicted') return undefined;
  if (value === 'benign') return 0;
  if (value === 'malignant') return 1;
  throw new HttpError(400, `Expected 'predicted', 'benign' or 'malignant' for explain but received '${raw!.slice(0, 40)}'.`);
}

/** Fires when the client disconnects before its answer was sent. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed) controller.abort();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

export async function analyseRequest(req: Request, res: Response, ctx: AnalyseContext,
  pictures: { gradcam?: boolean; includeImage?: boolean } = {}, submitted: SubmittedForm = {}): Promise<AnalysedRequest> {
  const gone = clientGone(res);
  const query = queryParams(req);
  submitted.mag = query.mag;
  const expected = expectedBodyBytes(req, ctx.options.maxUploadBytes);
  const place = ctx.queue.admit();
  const allowance = ctx.uploads.allowance();
  const overBudget = (): HttpError => ctx.uploads.refusal(ctx.queue.retryAfterSeconds());
  try {
    if (!allowance.cover(expected)) throw overBudget();
    const upload = await readUpload(req, res, { maxBytes: ctx.options.maxUploadBytes, allowance, overBudget }, expected);
    const param = (name: string): string | undefined => query[name] ?? upload.fields[name];
    submitted.mag = param('mag');
    submitted.fileName = upload.fileName;
    const magnification = requestMagnification(param('mag'), upload.fileName);
    const checked = await checkImage(upload.image, ctx.options.limitInputPixels);
    const image = upload.image!;
    try {
      ctx.registry.card(magnification);
    } catch (err) {
      if (err instanceof MissingModelError) throw new HttpError(404, err.message);
      throw err;
    }
    const gradcam = pictures.gradcam ?? TRUE_VALUES.has((param('gradcam') ?? '').toLowerCase());
    submitted.method = param('method');
    const method = parseCamMethod(param('method'));
    const targetClass = explainedClass(param('explain'));
    try {
      const analysing = place.run(async (signal) => {
        const loaded = await ctx.registry.get(magnification);
        // Loading a model can take seconds: nobody is waiting for this answer any more.
        if (signal.aborted) throw new AbandonedError();
        return analyseImage(loaded, image, {
          gradcam, method, includeImage: pictures.includeImage, maxSide: ctx.options.pictureMaxSide, opacity: ctx.options.opacity,
          limitInputPixels: ctx.options.limitInputPixels, name: 'The uploaded image', signal, microBatch: ctx.options.microBatch, targetClass,
        }).catch((err: unknown) => {
          // The client left mid-way: the analysis stopped before its next step.
          if (signal.aborted) throw new AbandonedError();
          throw err;
        });
      }, ctx.options.requestTimeoutMs, gone);
      // Hashed here, on the main thread, while the decodes and the model work elsewhere.
      const sha256 = createHash('sha256').update(image).digest('hex');
      return { magnification, fileName: upload.fileName, sha256, analysis: await analysing };
    } catch (err) {
      if (err instanceof ImageReadError) {
        throw new HttpError(422, `The uploaded ${checked.format.toUpperCase()} file is damaged or incomplete, so it cannot be decoded. Export the image again and retry.`);
      }
      if (err instanceof MissingModelError) throw new HttpError(404, err.message);
      throw err;
    }
  } finally {
    place.release();
    allowance.release();
  }
}
