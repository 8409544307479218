// Results as resources: an analysis becomes a kept result (result-store.ts), and its pictures and
// downloads get their own URLs. Pictures never change under an id, so browsers may keep them for
// as long as the result lives; they stay private (no shared caches).
import { type Request, type Response, Router } from 'express';

import { analyseImage } from '../infer';
import { type AnalyseContext, type AnalysedRequest, explainedClass } from './analyse-request';
import { HttpError } from './http-error';
import { downloadStem, resultJson, resultsCsv } from './result-files';
import { PICTURES, type PictureName, type ResultStore, type StoredResult } from './result-store';

export interface ResultContext extends AnalyseContext {
  results: ResultStore;
}

/** Keeps an analysis under a new id and returns it as stored. */
export async function keepResult(results: ResultStore, analysed: AnalysedRequest): Promise<StoredResult> {
  const { analysis } = analysed;
  const g = analysis.gradcam;
  const stored: StoredResult = {
    record: {
      id: results.newId(),
      createdAt: Date.now(),
      // The name only: a client may send a path, which is nobody's business here.
      fileName: analysed.fileName ? analysed.fileName.split(/[\\/]/).pop() || null : null,
      sha256: analysed.sha256,
      magnification: analysed.magnification,
      prediction: analysis.prediction,
      warnings: analysis.warnings,
      gradcam: g ? { method: g.method, targetClass: g.targetClass === 1 ? 'malignant' : 'benign', width: g.width, height: g.height } : null,
    },
    pictures: g ? { overlay: g.overlayPng, heatmap: g.heatmapPng, ...(g.imagePng ? { image: g.imagePng } : {}) } : {},
  };
  await results.put(stored);
  return stored;
}

/** The kept result, or a 404 that says results are forgotten after a while. */
export async function findResult(results: ResultStore, id: string): Promise<StoredResult> {
  const found = await results.get(id);
  if (!found) {
    const minutes = Math.round(results.options.ttlMs / 60_000);
    throw new HttpError(404, `This result does not exist or has expired: results are kept for ${minutes} minute${minutes === 1 ? '' : 's'}` +
      `${results.options.dir ? ' unless the server keeps them in a folder' : ''}. Analyse the image again.`);
  }
  return found;
}

/**
 * Grad-CAM of a kept result's image for another class, kept as a new result. The verdict and
 * warnings stay the original analysis's: only the explanation changes.
 */
export async function explainAgain(ctx: ResultContext, { record, pictures }: StoredResult, req: Request): Promise<StoredResult> {
  const raw = typeof req.query.class === 'string' ? req.query.class : '';
  const targetClass = explainedClass(raw);
  if (targetClass === undefined) throw new HttpError(400, `Expected 'benign' or 'malignant' for class but received '${raw.slice(0, 40)}'.`);
  const place = ctx.queue.admit();
  try {
    const analysis = await place.run(async (signal) => analyseImage(await ctx.registry.get(record.magnification), pictures.image!, {
      gradcam: true, includeImage: true, targetClass, method: record.gradcam?.method, maxSide: ctx.options.pictureMaxSide, opacity: ctx.options.opacity,
      limitInputPixels: ctx.options.limitInputPixels, name: 'The kept image', signal, microBatch: ctx.options.microBatch,
    }), ctx.options.requestTimeoutMs);
    return await keepResult(ctx.results, {
      magnification: record.magnification, fileName: record.fileName ?? undefined, sha256: record.sha256,
      analysis: { ...analysis, prediction: record.prediction, warnings: record.warnings },
    });
  } finally {
    place.release();
  }
}

const MAX_CSV_RESULTS = 500;

function attachment(res: Response, name: string): void {
  res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
}

export function resultRoutes(ctx: ResultContext): Router {
  const router = Router();

  // One CSV of many results (the batch table's download): ?ids=a,b,c; expired ones are left out.
  router.get('/results.csv', async (req, res) => {
    const raw = typeof req.query.ids === 'string' ? req.query.ids : '';
    const ids = raw.split(',').filter(Boolean);
    if (ids.length === 0 || ids.length > MAX_CSV_RESULTS) {
      throw new HttpError(400, `Expected 1 to ${MAX_CSV_RESULTS} result ids, separated by commas, for ids but received ${ids.length}.`);
    }
    const found = await Promise.all(ids.map((id) => ctx.results.get(id)));
    attachment(res, 'histoscope-results.csv');
    res.type('text/csv; charset=utf-8').send(resultsCsv(found.filter((r): r is StoredResult => r !== undefined).map((r) => r.record)));
  });

  router.get('/results/:id/:picture.png', async (req, res) => {
    const name = String(req.params.picture) as PictureName;
    const { record, pictures } = await findResult(ctx.results, String(req.params.id));
    const png = PICTURES.includes(name) ? pictures[name] : undefined;
    if (!png) throw new HttpError(404, `This result has no ${String(req.params.picture).slice(0, 20)} picture.`);
    res.setHeader('Cache-Control', `private, max-age=${ctx.results.maxAgeSeconds}, immutable`);
    if (req.query.download !== undefined) attachment(res, `${downloadStem(record)}.${name}.png`);
    res.type('png').send(png);
  });

  router.get('/results/:id/result.json', async (req, res) => {
    const stored = await findResult(ctx.results, String(req.params.id));
    attachment(res, `${downloadStem(stored.record)}.histoscope.json`);
    res.type('json').send(JSON.stringify(resultJson(stored), null, 2) + '\n');
  });

  router.get('/results/:id/result.csv', async (req, res) => {
    const { record } = await findResult(ctx.results, String(req.params.id));
    attachment(res, `${downloadStem(record)}.histoscope.csv`);
    res.type('text/csv; charset=utf-8').send(resultsCsv([record]));
  });

  return router;
}
