// A whole-request deadline: a client that uploads too slowly, or an analysis stuck behind others,
// gets an answer (408 or 503) instead of an open connection that never closes.
import type { NextFunction, Request, Response } from 'express';

import { sendError } from './http-error';

export function requestDeadline(ms: number) {
  const seconds = Math.max(1, Math.round(ms / 1000));
  const within = `within ${seconds} second${seconds === 1 ? '' : 's'}`;
  return (req: Request, res: Response, next: NextFunction): void => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      if (!req.complete) {
        sendError(req, res, 408, `The upload did not arrive ${within}. Check the connection and try again.`);
        req.destroy();
      } else {
        sendError(req, res, 503, `The analysis did not finish ${within}. Please try again.`);
      }
    }, ms);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
    res.on('finish', () => clearTimeout(timer));
    next();
  };
}
