// The HTTP server around the app (`histoscope serve`, npm start, the tests and the bench). A request
// with `Expect: 100-continue` reaches the app without Node's automatic "100 Continue": a request
// refused before its body is read (queue full, too large, wrong type) then never invites the client
// to send the body, and readUpload sends the 100 only when it starts reading.
import * as http from 'node:http';
import type { Express, Response } from 'express';

const awaitingContinue = new WeakSet<http.IncomingMessage>();

export function createHttpServer(app: Express): http.Server {
  const server = http.createServer(app);
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    awaitingContinue.add(req);
    app(req, res);
  });
  return server;
}

/** Whether the client still waits for "100 Continue" before sending its body. */
export function waitsForContinue(req: http.IncomingMessage): boolean {
  return awaitingContinue.has(req);
}

/** Asks a client that waits for "100 Continue" to send its body; nothing otherwise. */
export function inviteBody(req: http.IncomingMessage, res: Response): void {
  if (awaitingContinue.delete(req)) res.writeContinue();
}
