// Answering a request whose body has not all arrived (refused before or while it was read), so
// that the client always reads the answer. Closing at once is what made clients see "broken pipe":
// the bytes they were still sending made the kernel reset the connection. So:
// - a client waiting for "100 Continue" has sent no body and will not: the answer says
//   `Connection: close`, and closing is clean;
// - a client already sending: Node reads and discards the rest of the body once the answer is
//   sent (and the connection stays usable); this bounds that drain in bytes and time, and closes
//   the connection past either bound.
import type { Request, Response } from 'express';

import { waitsForContinue } from './http-server';

/** At most this much more of an unwanted body is read and discarded, for at most this long. */
export const DRAIN_MAX_BYTES = 256 * 1024 * 1024;
export const DRAIN_MS = 30_000;

/** Call before sending an answer; does nothing when the body has been read. */
export function closeAfterAnswer(req: Request, res: Response): void {
  if (req.complete || res.headersSent) return;
  if (waitsForContinue(req)) {
    res.setHeader('Connection', 'close');
    return;
  }
  res.removeHeader('Connection');
  const socket = req.socket;
  const startBytes = socket.bytesRead;
  const started = Date.now();
  const stop = (): void => clearInterval(timer);
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    if (Date.now() - started > DRAIN_MS || socket.bytesRead - startBytes > DRAIN_MAX_BYTES) {
      stop();
      socket.destroy();
    }
  }, 250);
  timer.unref();
  socket.once('close', stop);
  // An unread body flows to nowhere (Node does this itself for a body nobody started reading).
  req.unpipe();
  req.resume();
}
