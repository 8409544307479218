// Turns training events into what a person or a script reads: JSON lines on stdout with --json;
// otherwise a per-batch bar (loss, accuracy) on stderr when it is a terminal, and one summary
// line per epoch either way.
import { createProgress, type Progress } from '../data';
import type { TrainEvent, TrainEventHandler } from './train-events';

export interface ReporterOptions {
  json: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WriteStream;
}

const f3 = (x: number): string => x.toFixed(3);

export function createTrainReporter(o: ReporterOptions): TrainEventHandler {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  if (o.json) return (e: TrainEvent) => { out.write(JSON.stringify(e) + '\n'); };
  let bar: Progress | null = null;
  return (e: TrainEvent) => {
    switch (e.event) {
      case 'warning':
        err.write(`warning: ${e.message}\n`);
        break;
      case 'stale-temps-removed':
        err.write(`Removed ${e.paths.length} temporary file(s) left by a killed process: ${e.paths.join(', ')}\n`);
        break;
      case 'run-start': {
        const c = e.counts;
        err.write(`${e.resumed ? 'Resuming' : 'Training'} ${e.config.magnification} in ${e.runDir}` +
          `${e.resumed ? ` from epoch ${e.startEpoch}` : ''}: train ${c.train.benign} B / ${c.train.malignant} M (${c.train.patients} patients), ` +
          `val ${c.val.benign} B / ${c.val.malignant} M, test ${c.test.benign} B / ${c.test.malignant} M; ` +
          `class weights ${e.classWeights.map(f3).join(' / ')}\n`);
        break;
      }
      case 'stain-target':
        err.write(`Stain normalisation: ${e.method}, fitted to ${e.fittedTo === 'train' ? `${e.images} training images` : e.fittedTo}\n`);
        break;
      case 'epoch-start':
        bar = createProgress({ label: `epoch ${e.epoch}/${e.maxEpochs}`, total: e.batches, stream: err });
        break;
      case 'batch':
        bar?.tick(e.batch, `loss ${f3(e.loss)} acc ${f3(e.accuracy)}`);
        break;
      case 'epoch-end': {
        bar?.finish();
        bar = null;
        const r = e.record;
        err.write(`epoch ${r.epoch}: train loss ${f3(r.trainLoss)} acc ${f3(r.trainAccuracy)} F1 ${f3(r.trainWeightedF1)} | ` +
          `val loss ${f3(r.valLoss)} acc ${f3(r.valAccuracy)} F1 ${f3(r.valWeightedF1)}${r.improved ? ' (best)' : ''} | ` +
          `${r.seconds.toFixed(1)} s, ${r.imagesPerSecond.toFixed(1)} img/s\n`);
        break;
      }
      case 'early-stop':
        err.write(`Early stop after epoch ${e.epoch}: no better validation weighted F1 for ${e.patience} epochs (best: epoch ${e.bestEpoch}).\n`);
        break;
      case 'interrupted':
        if (bar) err.write('\n');
        err.write(`Stopped after ${e.epochsCompleted} complete epoch(s); continue with: histoscope train --resume ${e.runDir}\n`);
        break;
      case 'evaluate':
        err.write(`Evaluating the best checkpoint on ${e.part} (${e.images} images${e.shard ? `; ${e.shard.images} on rank ${e.shard.rank} of ${e.shard.ranks}` : ''})\n`);
        break;
      case 'gallery':
        err.write(`Grad-CAM gallery and top losses in ${e.dir} (${e.seconds.toFixed(1)} s)\n`);
        break;
      case 'run-end':
        err.write(`Done: best epoch ${e.bestEpoch} of ${e.epochs}; threshold ${f3(e.threshold)} (from validation); ` +
          `val acc ${f3(e.val.accuracy)} F1 ${f3(e.val.weightedF1)}; test acc ${f3(e.test.accuracy)} F1 ${f3(e.test.weightedF1)}` +
          `${e.test.auc === null ? '' : ` AUC ${f3(e.test.auc)}`}. Results in ${e.runDir}\n`);
        break;
      default:
        break;
    }
  };
}
