// Errors that reach a client: a status and one sentence a person understands. Anything else that
// escapes a handler is logged here and answered with a generic 500, so no stack trace, file path
// or library message ever leaves the server.
import type { NextFunction, Request, Response } from 'express';

import { closeAfterAnswer } from './graceful-close';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Whether the client asked for JSON (the API) rather than a page. */
export function wantsJson(req: Request): boolean {
  return req.path.startsWith('/api/') || req.path === '/healthz';
}

/** False once the answer has started, or the client is gone (nobody would read it). */
export function answerable(req: Request, res: Response): boolean {
  return !res.headersSent && !res.destroyed && !req.socket?.destroyed;
}

export function sendError(req: Request, res: Response, status: number, message: string): void {
  if (!answerable(req, res)) return;
  closeAfterAnswer(req, res);
  if (wantsJson(req)) {
    res.status(status).json({ error: message, status });
  } else {
    res.status(status).render('error', { status, message, title: status >= 500 ? 'Server error' : 'Request not accepted' });
  }
}

export function notFound(req: Request, res: Response): void {
  sendError(req, res, 404, 'There is nothing at this address.');
}

export function errorHandler(log: (message: string) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof HttpError) {
      // A handler that fails after its answer started (say past its deadline) has nobody to tell.
      if (!answerable(req, res)) return;
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      sendError(req, res, err.status, err.message);
      return;
    }
    // Express's own parser errors (bad JSON, bad URL encoding) carry a 4xx status.
    const status = (err as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(req, res, status, 'The request could not be read.');
      return;
    }
    log(`${req.method} ${req.path}: ${(err as Error)?.stack ?? String(err)}`);
    sendError(req, res, 500, 'Something went wrong on the server. The error was logged; please try again.');
  };
}
