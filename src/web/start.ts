// `npm start`: trains demo models first when models/ is empty (src/train/demo-models.ts), then serves
// the UI at http://localhost:PORT (default 3000). Settings come from the environment:
// PORT, HOST (default 127.0.0.1), HISTOSCOPE_MODELS (default models).
// First: the libuv pool is sized before anything can start it.
import { sizeThreadPool } from '../util/decode-threads';
sizeThreadPool();

import { serve } from './serve';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${process.env.PORT}".`);
  const modelsDir = process.env.HISTOSCOPE_MODELS ?? 'models';
  await serve({ port, host: process.env.HOST ?? '127.0.0.1', modelsDir, bootstrapDemo: true, handleSignals: true });
}

main().catch((err: Error) => {
  process.stderr.write(`histoscope: ${err.message.split('\n')[0]}\n`);
  process.exit(1);
});
