// Listens with the app: socket-level timeouts against slow clients, and a clean shutdown on
// SIGINT/SIGTERM that finishes in-flight requests and frees the models.
import type { Server } from 'node:http';

import type { ModelRegistry } from '../infer';
import { createApp } from './app';
import { createHttpServer } from './http-server';
import type { WebOptions } from './web-options';

export interface ServeOptions extends Partial<WebOptions> {
  port?: number;
  host?: string;
}

export async function startServer(options: ServeOptions = {}): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const app = createApp(options);
  const registry = app.locals.registry as ModelRegistry;
  const server = createHttpServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = (options.requestTimeoutMs ?? 60_000) + 10_000;
  server.keepAliveTimeout = 5_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  const close = (): Promise<void> => new Promise((resolve) => {
    server.close(() => {
      if (!options.registry) registry.dispose();
      resolve();
    });
    server.closeIdleConnections();
  });
  return { server, url, close };
}
