// `npm start`: trains demo models first when models/ is empty (see demo-bootstrap.ts), then serves
// the UI at http://localhost:PORT (default 3000). Settings come from the environment:
// PORT, HOST (default 127.0.0.1), HISTOSCOPE_MODELS (default models).
// First: the libuv pool is sized before anything can start it.
import { sizeThreadPool } from '../util/decode-threads';
sizeThreadPool();

import { createTrainReporter } from '../train';
import { demoModelsNeeded, trainDemoModels } from './demo-bootstrap';
import { startServer } from './server';

async function main(): Promise<void> {
  const modelsDir = process.env.HISTOSCOPE_MODELS ?? 'models';
  const missing = demoModelsNeeded(modelsDir);
  if (missing.length > 0) {
    await trainDemoModels({ modelsDir, magnifications: missing, onEvent: createTrainReporter({ json: false }) });
  }
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${process.env.PORT}".`);
  const { url, close } = await startServer({ port, host: process.env.HOST ?? '127.0.0.1', modelsDir });
  process.stderr.write(`Histoscope is serving at ${url}\n`);
  const stop = (): void => { void close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`histoscope: ${err.message.split('\n')[0]}\n`);
  process.exit(1);
});
