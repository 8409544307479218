// `histoscope`: commander wiring only. Each part registers its commands from src/cli/*; every
// command calls a library function that the tests call too.
// First: the libuv pool is sized from the command line before anything can start it.
import { sizeThreadPool } from './util/decode-threads';
sizeThreadPool();

import { Command } from 'commander';

import { registerDataCommands } from './cli/data-commands';
import { registerInferCommands } from './cli/infer-commands';
import { registerTrainCommands } from './cli/train-commands';
import { registerWeightsCommands } from './cli/weights-commands';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('histoscope')
    .description('Benign/malignant classification of BreakHis histopathology images with ResNet-50 and Grad-CAM.')
    .showHelpAfterError();
  registerDataCommands(program);
  registerInferCommands(program);
  registerTrainCommands(program);
  registerWeightsCommands(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err: Error) => {
    process.stderr.write(`histoscope: ${err.message.split('\n')[0]}\n`);
    process.exitCode = 1;
  });
}
