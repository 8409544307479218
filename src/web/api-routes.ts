// The JSON API for scripts: POST /api/predict, GET /api/models, GET /healthz.
import { Router } from 'express';

import { analyseRequest, type AnalyseContext } from './analyse-request';
import { summariseStatus } from './model-summary';

export function apiRoutes(ctx: AnalyseContext): Router {
  const router = Router();

  router.post('/api/predict', async (req, res) => {
    const { magnification, analysis } = await analyseRequest(req, res, ctx);
    const p = analysis.prediction;
    res.json({
      magnification,
      label: p.label,
      probability: p.probabilities.malignant,
      probabilities: p.probabilities,
      threshold: p.threshold,
      modelId: p.modelId,
      demo: p.demo,
      ...(p.warning ? { warning: p.warning } : {}),
      warnings: analysis.warnings,
      ...(p.stain ? { stain: p.stain, ...(p.stainNote ? { stainNote: p.stainNote } : {}) } : {}),
      ...(analysis.gradcam ? {
        gradcam: {
          method: analysis.gradcam.method,
          targetClass: analysis.gradcam.targetClass === 1 ? 'malignant' : 'benign',
          width: analysis.gradcam.width,
          height: analysis.gradcam.height,
          overlayPng: analysis.gradcam.overlayPng.toString('base64'),
        },
      } : {}),
    });
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
