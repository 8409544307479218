// Builds the Express app (tests use it without listening; start.ts and `histoscope serve` listen).
// The web layer validates and renders; every computation happens in src/infer.
import express, { type Express } from 'express';

import { ModelRegistry } from '../infer';
import { apiRoutes } from './api-routes';
import { errorHandler, notFound } from './http-error';
import { pageRoutes } from './page-routes';
import { VIEWS_DIR, STATIC_DIR } from './paths';
import { requestDeadline } from './request-deadline';
import { resultRoutes } from './result-routes';
import { ResultStore } from './result-store';
import { securityHeaders } from './security-headers';
import { DEFAULT_WEB_OPTIONS, type WebOptions } from './web-options';
import { UploadBudget } from './upload-budget';
import { WorkQueue } from './work-queue';

export function createApp(overrides: Partial<WebOptions> = {}): Express {
  const options: WebOptions = { ...DEFAULT_WEB_OPTIONS, ...overrides };
  const registry = options.registry ?? new ModelRegistry({ modelsDir: options.modelsDir, precision: options.precision });
  const queue = new WorkQueue({ concurrency: options.concurrency, maxWaiting: options.maxWaiting });
  const uploads = new UploadBudget(options.maxUploadBytesInFlight);
  const results = new ResultStore(options.results);
  const ctx = { registry, queue, uploads, options, results };

  const app = express();
  app.disable('x-powered-by');
  app.set('views', VIEWS_DIR);
  app.set('view engine', 'ejs');
  app.locals.registry = registry;
  // The header links only to model cards that exist (a missing one is a 404).
  app.locals.installedCards = (): string[] => registry.status().filter((s) => s.installed).map((s) => s.magnification);
  app.use(securityHeaders);
  app.use(requestDeadline(options.requestTimeoutMs));
  app.use('/static', express.static(STATIC_DIR, { index: false, dotfiles: 'deny', fallthrough: true, maxAge: '1h' }));
  app.use(apiRoutes(ctx));
  app.use(resultRoutes(ctx));
  app.use(pageRoutes(ctx));
  app.use(notFound);
  app.use(errorHandler(options.log));
  return app;
}
