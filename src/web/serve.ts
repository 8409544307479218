// What `npm start` (start.ts) and `histoscope serve` both run: optionally train the demo models
// when models/ holds none (src/train's demo-models.ts), then listen, print the address, and close
// cleanly on SIGINT/SIGTERM.
import { createTrainReporter, type DemoOptions, demoModelsNeeded, trainDemoModels } from '../train';
import { type ServeOptions, startServer } from './server';

export interface ServeCommandOptions extends ServeOptions {
  /** Train a demo model per empty magnification slot first, unless a real model is installed. */
  bootstrapDemo?: boolean;
  /** Where and how the demo models are trained (tests train a tiny one). */
  demo?: Omit<DemoOptions, 'modelsDir' | 'magnifications'>;
  /** Stop on SIGINT/SIGTERM (the entry points); tests close it themselves. */
  handleSignals?: boolean;
  /** Where the "serving at" line goes (default stderr). */
  announce?: (line: string) => void;
}

export async function serve(options: ServeCommandOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const modelsDir = options.modelsDir ?? 'models';
  if (options.bootstrapDemo) {
    const missing = demoModelsNeeded(modelsDir);
    if (missing.length > 0) {
      await trainDemoModels({ onEvent: createTrainReporter({ json: false }), ...options.demo, modelsDir, magnifications: missing });
    }
  }
  const { url, close } = await startServer({ ...options, modelsDir });
  (options.announce ?? ((line: string): void => { process.stderr.write(`${line}\n`); }))(`Histoscope is serving at ${url}`);
  if (options.handleSignals) {
    const stop = (): void => { void close().then(() => process.exit(0)); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return { url, close };
}
