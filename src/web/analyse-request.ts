// A request with an uploaded image → an analysis, shared by the JSON API and the form page:
// read the upload (capped), choose the magnification, check the bytes are a PNG/JPEG of an
// acceptable size, check a model exists, then queue the work. Every refusal is an HttpError
// with a sentence for a person.
import type { Request } from 'express';

import type { Magnification } from '../data';
import { analyseImage, type Analysis, ImageReadError, MissingModelError, type ModelRegistry } from '../infer';
import { checkImage } from './check-image';
import { HttpError } from './http-error';
import { requestMagnification } from './magnification-param';
import { readUpload } from './read-upload';
import type { WebOptions } from './web-options';
import type { WorkQueue } from './work-queue';

export interface AnalysedRequest {
  magnification: Magnification;
  fileName: string | undefined;
  analysis: Analysis;
}

const TRUE_VALUES = new Set(['1', 'true', 'yes', 'on']);

export interface AnalyseContext {
  registry: ModelRegistry;
  queue: WorkQueue;
  options: WebOptions;
}

export async function analyseRequest(req: Request, ctx: AnalyseContext, pictures: { gradcam?: boolean; includeImage?: boolean } = {}): Promise<AnalysedRequest> {
  const upload = await readUpload(req, ctx.options.maxUploadBytes);
  const query = req.query as Record<string, unknown>;
  const param = (name: string): string | undefined => (typeof query[name] === 'string' ? query[name] as string : upload.fields[name]);
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
  try {
    const analysis = await ctx.queue.run(async () => {
      const loaded = await ctx.registry.get(magnification);
      return analyseImage(loaded, image, {
        gradcam, includeImage: pictures.includeImage, maxSide: ctx.options.pictureMaxSide, opacity: ctx.options.opacity,
        limitInputPixels: ctx.options.limitInputPixels, name: 'The uploaded image',
      });
    }, ctx.options.requestTimeoutMs);
    return { magnification, fileName: upload.fileName, analysis };
  } catch (err) {
    if (err instanceof ImageReadError) {
      throw new HttpError(422, `The uploaded ${checked.format.toUpperCase()} file is damaged or incomplete, so it cannot be decoded. Export the image again and retry.`);
    }
    if (err instanceof MissingModelError) throw new HttpError(404, err.message);
    throw err;
  }
}
