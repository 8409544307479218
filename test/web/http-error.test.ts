// The error handler answers a failed request once, and stays quiet when the answer already started.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';

import { errorHandler, HttpError } from '../../src/web/http-error';

describe('error handler', () => {
  it('ignores an HttpError with headers that arrives after the answer started, and keeps serving', async () => {
    const logged: string[] = [];
    const thrown: unknown[] = [];
    const app = express();
    app.get('/late', (_req, res, next) => {
      res.status(200).json({ ok: true }); // the answer went out (a deadline answer, say)
      next(new HttpError(503, 'Busy.', { 'Retry-After': '5' })); // then the handler failed
    });
    app.get('/api/busy', (_req, _res, next) => next(new HttpError(503, 'Busy.', { 'Retry-After': '5' })));
    app.use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
      try {
        errorHandler((m) => logged.push(m))(err, req, res, next);
      } catch (e) {
        thrown.push(e);
      }
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const late = await fetch(`${base}/late`);
      expect(late.status).to.equal(200);
      expect(await late.json()).to.deep.equal({ ok: true });
      const busy = await fetch(`${base}/api/busy`);
      expect(busy.status).to.equal(503);
      expect(busy.headers.get('retry-after')).to.equal('5');
      expect(thrown, 'errors thrown by the handler').to.deep.equal([]);
      expect(logged).to.deep.equal([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
