// The JSON API for scripts: POST /api/predict, GET /api/models, GET /healthz.
import { Router } from 'express';

import { analyseRequest } from './analyse-request';
import { summariseStatus } from './model-summary';
import { resultJson } from './result-files';
import { keepResult, type ResultContext } from './result-routes';

export function apiRoutes(ctx: ResultContext): Router {
  const router = Router();

  // The answer is the kept result (as its result.json download gives it: id, links, sha256 …),
  // plus the overlay inline for scripts that want it in one round trip.
  router.post('/api/predict', async (req, res) => {
    const analysed = await analyseRequest(req, res, ctx);
    // The client's own file name is not echoed back (it may be a path); the downloads carry it.
    const answer = resultJson(await keepResult(ctx.results, analysed));
    delete answer.fileName;
    const overlay = analysed.analysis.gradcam?.overlayPng;
    res.json(overlay ? { ...answer, gradcam: { ...(answer.gradcam as object), overlayPng: overlay.toString('base64') } } : answer);
  });

  router.get('/api/models', (_req, res) => {
    res.json({ models: ctx.registry.status().map(summariseStatus) });
  });

  router.get('/healthz', (_req, res) => {
    const models = Object.fromEntries(ctx.registry.status().map((s) => [s.magnification, !s.installed ? 'missing' : s.loaded ? 'loaded' : 'installed']));
    res.json({ status: 'ok', models, queue: ctx.queue.stats, uploads: { bytesInFlight: ctx.uploads.bytesInFlight, limit: ctx.uploads.limit } });
  });

  return router;
}
