// Answering a request whose body has not all arrived (refused before or while it was read), so
// that the client always reads the answer. Closing at once is what made clients see "broken pipe":
// the bytes they were still sending made the kernel reset the connection. So:
// - a client waiting for "100 Continue" has sent no body and will not: the answer says
//   `Connection: close`, and closing is clean;
// - a client already sending: Node reads and discards the rest of the body once the answer is
//   sent (and the connection stays usable); this bounds that drain in bytes and in silence (a
//   burst of refused uploads can take long to drain; a client that stops sending is let go), and
//   closes the connection past either bound. The server's requestTimeout bounds the whole.
import type { Request, Response } from 'express';

import { waitsForContinue } from './http-server';

/** At most this much more of an unwanted body is read and discarded, with pauses no longer than this. */
export const DRAIN_MAX_BYTES = 256 * 1024 * 1024;
export const DRAIN_SILENCE_MS = 10_000;
/** Idle timeout of a connection once drained (as the server's keepAliveTimeout). */
const KEEP_ALIVE_MS = 5_000;

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
  let lastBytes = startBytes;
  let lastProgress = Date.now();
  const stop = (): void => {
    clearInterval(timer);
    socket.off('close', stop);
  };
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    if (socket.bytesRead > lastBytes) {
      lastBytes = socket.bytesRead;
      lastProgress = Date.now();
    }
    if (Date.now() - lastProgress > DRAIN_SILENCE_MS || socket.bytesRead - startBytes > DRAIN_MAX_BYTES) {
      stop();
      socket.destroy();
    }
  }, 250);
  timer.unref();
  socket.once('close', stop);
  // Node gives an answered connection its keep-alive idle timeout (a few seconds) even while the
  // body still arrives; a client slowed by a burst was cut mid-send. This drain has its own bounds,
  // and the idle timeout comes back once the body has arrived.
  res.once('finish', () => {
    if (!req.complete) socket.setTimeout(0);
  });
  req.once('end', () => {
    stop();
    socket.setTimeout(KEEP_ALIVE_MS);
  });
}
