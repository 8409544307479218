// The pages people use: the analysis form and its result (GET and POST /), and a model card page
// per magnification with the card's plots and Grad-CAM gallery. The form works without
// JavaScript; the small static script only adds drag and drop and pre-selects the magnification from a BreakHis file name.
import * as path from 'node:path';
import { type Request, type Response, Router } from 'express';

import { MAGNIFICATIONS, parseBreakhisName } from '../data';
import { DEMO_WARNING, MissingModelError, trainCommandHint } from '../infer';
import { analyseRequest, type SubmittedForm } from './analyse-request';
import { cardView } from './card-view';
import { closeAfterAnswer } from './graceful-close';
import { answerable, HttpError } from './http-error';
import { parseSlot } from './magnification-param';
import { summariseCard, summariseStatus } from './model-summary';
import { pictureUrl, resultUrl } from './result-files';
import { explainAgain, findResult, keepResult, type ResultContext } from './result-routes';
import type { StoredResult } from './result-store';

/** Recipe values such as the dataset or runs folder are shown by their last component only. */
function withoutFolders(value: unknown): unknown {
  return typeof value === 'string' && /[\\/]/.test(value) ? path.basename(value) : value;
}

/** Plot names to show: SVG when a plot exists as both SVG and PNG, PNG otherwise. */
function listedPlots(plots: Record<string, string>): string[] {
  const files = new Set(Object.values(plots));
  return Object.entries(plots)
    .filter(([, file]) => /\.svg$/i.test(file) || (/\.png$/i.test(file) && !files.has(file.replace(/\.png$/i, '.svg'))))
    .map(([name]) => name);
}

/** The card's Grad-CAM gallery for the page: the two sheets, the overlays of each, the CSVs. */
function galleryView(files: Record<string, string>): { sheets: string[]; sample: string[]; losses: string[]; tables: string[] } | null {
  const names = Object.keys(files).sort();
  if (names.length === 0) return null;
  return {
    sheets: ['gallery.png', 'top-losses.png'].filter((n) => n in files),
    sample: names.filter((n) => /^sample-.*\.jpg$/.test(n)),
    losses: names.filter((n) => /^loss-.*\.jpg$/.test(n)),
    tables: names.filter((n) => /\.csv$/.test(n)),
  };
}

/** Content types of the files a card may list, by kind: anything else is not served. */
const PLOT_TYPES: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml' };
const GALLERY_TYPES: Record<string, string> = { ...PLOT_TYPES, '.jpg': 'image/jpeg', '.csv': 'text/csv; charset=utf-8', '.json': 'application/json' };

/** The slot to show again after a refusal: the file name's magnification when it has one (a mismatch is fixed by it), else what was chosen. */
function submittedMagnification(submitted: SubmittedForm): string | undefined {
  const named = parseBreakhisName(path.basename(submitted.fileName ?? ''));
  if (named.ok) return named.name.magnification;
  try {
    return submitted.mag ? parseSlot(submitted.mag) : undefined;
  } catch {
    return undefined;
  }
}

/** The enhanced form (app.js) posts with Accept: application/json and stays on the page, keeping the file. */
const wantsJsonAnswer = (req: Request): boolean => /application\/json/.test(req.get('accept') ?? '');

function renderForm(req: Request, res: Response, ctx: ResultContext,
  extra: { stored?: StoredResult; error?: string; status?: number; selected?: string; method?: string }): void {
  const models = ctx.registry.status().map(summariseStatus);
  const stored = extra.stored;
  const record = stored?.record;
  const selected = extra.selected ?? record?.magnification ?? (typeof req.query.mag === 'string' ? req.query.mag.toUpperCase() : undefined);
  res.status(extra.status ?? 200).render('index', {
    title: record ? `${record.prediction.label === 'malignant' ? 'Malignant' : 'Benign'} — analysis` : 'Analyse an image',
    magnifications: MAGNIFICATIONS,
    method: extra.method ?? record?.gradcam?.method ?? 'gradcam',
    maxUploadMegabytes: Math.floor(ctx.options.maxUploadBytes / 2 ** 20),
    models,
    selected: models.find((m) => m.magnification === selected)?.magnification ?? (models.find((m) => m.installed)?.magnification ?? '40X'),
    anyDemo: models.some((m) => m.installed && m.demo),
    demoWarning: DEMO_WARNING,
    view: cardView,
    error: extra.error,
    result: stored && record && {
      id: record.id,
      url: resultUrl(record.id),
      fileName: record.fileName,
      prediction: record.prediction,
      warnings: record.warnings,
      model: models.find((m) => m.magnification === record.magnification),
      imageUrl: stored.pictures.image ? pictureUrl(record.id, 'image') : undefined,
      overlayUrl: stored.pictures.overlay ? pictureUrl(record.id, 'overlay') : undefined,
      heatmapUrl: stored.pictures.heatmap ? pictureUrl(record.id, 'heatmap') : undefined,
      targetClass: record.gradcam?.targetClass ?? 'benign',
      method: record.gradcam?.method === 'gradcam++' ? 'Grad-CAM++' : 'Grad-CAM',
      width: record.gradcam?.width,
      height: record.gradcam?.height,
      expiresMinutes: ctx.results.options.dir ? undefined : Math.round(ctx.results.options.ttlMs / 60_000),
    },
  });
}

export function pageRoutes(ctx: ResultContext): Router {
  const router = Router();

  router.get('/', (req, res) => renderForm(req, res, ctx, {}));

  // Post, then redirect to the result's own page: reloading it does not send the upload again.
  router.post('/', async (req, res) => {
    const submitted: SubmittedForm = {};
    try {
      const stored = await keepResult(ctx.results, await analyseRequest(req, res, ctx, { gradcam: true, includeImage: true }, submitted));
      // #result: without JavaScript too, the browser scrolls to the verdict.
      const url = `${resultUrl(stored.record.id)}#result`;
      if (wantsJsonAnswer(req)) res.json({ id: stored.record.id, url });
      else res.redirect(303, url);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (!answerable(req, res)) return;
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      closeAfterAnswer(req, res);
      // The form shows again with the file's magnification (or the one submitted) and the method chosen.
      const selected = submittedMagnification(submitted);
      const method = submitted.method === 'gradcam++' ? 'gradcam++' : undefined;
      if (wantsJsonAnswer(req)) res.status(err.status).json({ error: err.message, status: err.status, ...(selected ? { selected } : {}) });
      else renderForm(req, res, ctx, { error: err.message, status: err.status, selected, method });
    }
  });

  router.get('/results/:id', async (req, res) => {
    renderForm(req, res, ctx, { stored: await findResult(ctx.results, String(req.params.id)) });
  });

  // Explain the other class: Grad-CAM of the kept image for the class chosen, as a new result.
  router.post('/results/:id/explain', async (req, res) => {
    const { record, pictures } = await findResult(ctx.results, String(req.params.id));
    if (!pictures.image) throw new HttpError(404, 'This result keeps no image to explain again. Analyse the image again.');
    const stored = await explainAgain(ctx, { record, pictures }, req);
    res.redirect(303, `${resultUrl(stored.record.id)}#result`);
  });

  router.get('/favicon.ico', (_req, res) => res.redirect(301, '/static/favicon.svg'));

  router.get('/models/:mag', (req, res) => {
    const mag = parseSlot(String(req.params.mag));
    let card;
    try {
      card = ctx.registry.card(mag);
    } catch (err) {
      if (err instanceof MissingModelError) throw new HttpError(404, err.message);
      throw err;
    }
    const status = ctx.registry.status().find((s) => s.magnification === mag);
    res.render('model', {
      title: `${mag} model card`,
      magnification: mag,
      card,
      summary: summariseCard(mag, card, status?.installed === true && status.loaded),
      demoWarning: DEMO_WARNING,
      plots: listedPlots(card.plots ?? {}),
      gallery: galleryView(card.gallery ?? {}),
      trainHint: trainCommandHint(mag),
      // Names only: the server's folders are nobody's business.
      runId: path.basename(String(card.run ?? '')),
      sourceName: path.basename(String(card.data?.source ?? '')),
      initialWeights: withoutFolders(card.weights?.initial),
      recipe: Object.fromEntries(Object.entries(card.recipe ?? {}).map(([k, v]) => [k, withoutFolders(v)])),
      currentCard: mag,
      view: cardView,
    });
  });

  // Only files the card lists, only inside the model's folder: no client-chosen path reaches the disk.
  const cardFile = (kind: 'plots' | 'gallery', types: Record<string, string>, missing: string) => (req: Request, res: Response): void => {
    const mag = parseSlot(String(req.params.mag));
    let card;
    try {
      card = ctx.registry.card(mag);
    } catch {
      throw new HttpError(404, `No model is installed for ${mag}.`);
    }
    const listed: Record<string, string> = card[kind] ?? {};
    const name = String(req.params.name);
    const file = Object.prototype.hasOwnProperty.call(listed, name) ? listed[name] : undefined;
    const dir = path.join(ctx.registry.modelsDir, mag);
    const resolved = file ? path.resolve(dir, file) : '';
    const type = types[path.extname(resolved).toLowerCase()];
    if (!file || !type || !resolved.startsWith(dir + path.sep)) throw new HttpError(404, missing);
    res.type(type);
    res.sendFile(resolved, { dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) res.status(404).json({ error: missing, status: 404 });
    });
  };
  router.get('/models/:mag/plots/:name', cardFile('plots', PLOT_TYPES, 'This model card has no such plot.'));
  router.get('/models/:mag/gallery/:name', cardFile('gallery', GALLERY_TYPES, 'This model card has no such gallery file.'));

  return router;
}
