// The pages people use: the analysis form and its result (GET and POST /), and a model card page
// per magnification with the card's plots and Grad-CAM gallery. The form works without
// JavaScript; the small static script only adds drag and drop and pre-selects the magnification from a BreakHis file name.
import * as path from 'node:path';
import { type Request, type Response, Router } from 'express';

import { MAGNIFICATIONS } from '../data';
import { DEMO_WARNING, MissingModelError, trainCommandHint } from '../infer';
import { analyseRequest, type AnalyseContext, type AnalysedRequest, type SubmittedForm } from './analyse-request';
import { closeAfterAnswer } from './graceful-close';
import { answerable, HttpError } from './http-error';
import { parseMagnification } from './magnification-param';
import { summariseCard, summariseStatus } from './model-summary';

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

function submittedMagnification(raw: string | undefined): string | undefined {
  try {
    return raw ? parseMagnification(raw) : undefined;
  } catch {
    return undefined;
  }
}

const dataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

function renderForm(req: Request, res: Response, ctx: AnalyseContext,
  extra: { result?: AnalysedRequest; error?: string; status?: number; selected?: string; method?: string }): void {
  const models = ctx.registry.status().map(summariseStatus);
  const result = extra.result;
  const selected = extra.selected ?? result?.magnification ?? (typeof req.query.mag === 'string' ? req.query.mag.toUpperCase() : undefined);
  res.status(extra.status ?? 200).render('index', {
    title: result ? `${result.analysis.prediction.label === 'malignant' ? 'Malignant' : 'Benign'} — analysis` : 'Analyse an image',
    magnifications: MAGNIFICATIONS,
    method: extra.method ?? result?.analysis.gradcam?.method ?? 'gradcam',
    maxUploadMegabytes: Math.floor(ctx.options.maxUploadBytes / 2 ** 20),
    models,
    selected: MAGNIFICATIONS.find((m) => m === selected) ?? (models.find((m) => m.installed)?.magnification ?? '40X'),
    anyDemo: models.some((m) => m.installed && m.demo),
    demoWarning: DEMO_WARNING,
    error: extra.error,
    result: result && {
      fileName: result.fileName,
      prediction: result.analysis.prediction,
      model: models.find((m) => m.magnification === result.magnification),
      imageUrl: result.analysis.gradcam?.imagePng ? dataUrl(result.analysis.gradcam.imagePng) : undefined,
      overlayUrl: result.analysis.gradcam ? dataUrl(result.analysis.gradcam.overlayPng) : undefined,
      targetClass: result.analysis.gradcam?.targetClass === 1 ? 'malignant' : 'benign',
      method: result.analysis.gradcam?.method === 'gradcam++' ? 'Grad-CAM++' : 'Grad-CAM',
      warnings: result.analysis.warnings,
      width: result.analysis.gradcam?.width,
      height: result.analysis.gradcam?.height,
    },
  });
}

export function pageRoutes(ctx: AnalyseContext): Router {
  const router = Router();

  router.get('/', (req, res) => renderForm(req, res, ctx, {}));

  router.post('/', async (req, res) => {
    const submitted: SubmittedForm = {};
    try {
      const result = await analyseRequest(req, res, ctx, { gradcam: true, includeImage: true }, submitted);
      renderForm(req, res, ctx, { result });
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (!answerable(req, res)) return;
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      closeAfterAnswer(req, res);
      // The form shows again with the magnification that was submitted, when it is one.
      renderForm(req, res, ctx, {
        error: err.message, status: err.status, selected: submittedMagnification(submitted.mag), method: submitted.method === 'gradcam++' ? 'gradcam++' : undefined,
      });
    }
  });

  router.get('/models/:mag', (req, res) => {
    const mag = parseMagnification(String(req.params.mag));
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
    });
  });

  // Only files the card lists, only inside the model's folder: no client-chosen path reaches the disk.
  const cardFile = (kind: 'plots' | 'gallery', types: Record<string, string>, missing: string) => (req: Request, res: Response): void => {
    const mag = parseMagnification(String(req.params.mag));
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
