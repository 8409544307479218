// `histoscope train | evaluate | sweep | cv | promote`: commander wiring only. Each action turns
// flags into overrides of the study's recipe and calls a src/train function the tests call too;
// Ctrl-C, SIGTERM and SIGHUP abort between batches and leave a resumable run (a second one quits at once).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createProgress, type Manifest, normaliseMagnification } from '../data';
import { describeInterval, type FaithfulnessSummary, formatMeanStd, formatStainShiftTable } from '../eval';
import {
  DEFAULT_STAIN_SHIFT_STRENGTHS, DistributedContext, LEARNING_RATE_SCALINGS, STAIN_FIT_IMAGES, STAIN_SHIFT_FILES, STUDY_RECIPE, TRAIN_MAGNIFICATIONS, configHash, createTrainReporter, evaluateStainShift, launchWorkers, readDistributedEnv, evaluateExternal, evaluateRun, magnificationsIn, promoteRun, resumeRun, runCrossValidation,
  runSweep, sharedManifest, trainRun, weightsCacheDir, type RunMetrics, type TrainMagnification, type TrainOverrides, type TrainRunOptions, type TrainRunResult,
} from '../train';
import { DIST_BACKENDS, PRECISIONS, type Precision, ProcessGroup, STAIN_METHODS, TRAINABLE_POLICIES, cudaAvailable } from '../native';
import { invalid } from '../util/expect';
import { action, addOptions, num, oneOf, type OptionSpec } from './options';
import { offerImagenetWeights } from './weights-offer';

const R = STUDY_RECIPE;

/** Flags shared by train, sweep and cv; defaults come from STUDY_RECIPE, not from here. */
const RECIPE_OPTIONS: OptionSpec[] = [
  { flags: '--data <dir>', description: 'BreakHis folder (indexed and split into the run), or the folder a --manifest indexes' },
  { flags: '--manifest <file>', description: 'reuse a manifest from `histoscope index` instead of indexing --data' },
  { flags: '--split <file>', description: 'reuse a split from `histoscope split` (its patients, cap and seed)' },
  { flags: '--weights <w>', description: `imagenet (torchvision's file in ${weightsCacheDir()} or torch hub's cache, verified; \`histoscope weights fetch\`), a .pth/.safetensors PATH, or none (random init; warns, trains all layers) [${R.weights}]` },
  { flags: '--trainable <layers>', description: `${TRAINABLE_POLICIES.join(' | ')} [${R.trainable}; all with --weights none]` },
  { flags: '--epochs <n>', description: `most epochs [${R.maxEpochs}]` },
  { flags: '--patience <n>', description: `early stop after n epochs without a better validation weighted F1 [${R.patience}]` },
  { flags: '--lr <x>', description: `Adam learning rate [${R.learningRate}]` },
  { flags: '--weight-decay <x>', description: `Adam weight decay [${R.weightDecay}]` },
  { flags: '--rotation <deg>', description: `extra random rotation in ±deg, besides flips and right angles [${R.augmentation.maxRotationDegrees}]` },
  { flags: '--stain-norm <method>', description: `stain normalisation of every input, kept with the model: ${STAIN_METHODS.join(' | ')} [${R.stainNorm}]` },
  { flags: '--stain-target <t>', description: `what --stain-norm is fitted to: train (${STAIN_FIT_IMAGES} seeded training images) or an image FILE [${R.stainTarget}]` },
  { flags: '--stain-augment <s>', description: `HED stain jitter strength for training, e.g. 0.05 (light) or 0.2 (strong); 0 = off [${R.augmentation.hedStrength}]` },
  { flags: '--device <d>', description: `auto | cpu | cuda | cuda:N [${R.device}]` },
  { flags: '--precision <p>', description: `${PRECISIONS.join(' | ')} [${R.precision}]` },
  { flags: '--image-size <px>', description: `model input side [${R.imageSize}]` },
  { flags: '--seed <n>', description: `seed of split, head, shuffling and augmentation [${R.seed}]` },
  { flags: '--runs <dir>', description: `where run folders go [${R.runsDir}]` },
  { flags: '--decode-cache <dir>', description: `decoded images kept for later runs: auto ($HISTOSCOPE_CACHE/decoded, else ~/.cache/histoscope/decoded), off, or a folder [${R.decodeCache}]` },
  { flags: '--decode-cache-size <GiB>', description: 'bound on that folder; least recently used shards go first [20 GiB or half the free disk]' },
  { flags: '--decode-concurrency <n>', description: `images decoded at once; also sizes libuv's pool [one per core: ${R.decodeConcurrency}]` },
  { flags: '--device-images <mode>', description: `auto (keep decoded training/validation images on the model's device when they fit) | off [${R.deviceImages}]` },
  { flags: '--device-image-budget <MB>', description: 'memory those images may take [half the free GPU memory; a quarter of free RAM on CPU]' },
  { flags: '--lr-scaling <rule>', description: `auto (the rate as given up to batch 64, linear from batch 32 above, with a one-epoch warm-up) | linear | none [${R.learningRateScaling}]` },
  { flags: '--eval-batch <n>', description: `batch size of validation and test passes [the larger of ${R.evalBatchSize} and --batch]` },
  { flags: '--no-gallery', description: `write no Grad-CAM gallery of test images and top losses [${R.gallery?.perClass} per class, ${R.gallery?.topLosses} top losses]` },
  { flags: '--fetch-weights', description: 'with --weights imagenet and no file yet, download torchvision\'s first (on a terminal you are asked instead)', defaultValue: false },
  { flags: '--json', description: 'events as JSON lines on stdout', defaultValue: false },
];

const TRAIN_OPTIONS: OptionSpec[] = [
  { flags: '--mag <m>', description: '40X | 100X | 200X | 400X | all (one model each) | pooled (one model for all)', defaultValue: 'all' },
  { flags: '--batch <n>', description: `batch size [${R.batchSize}]` },
  { flags: '--per-class <n>', description: `images per class per magnification, or all [${R.perClass}]` },
  { flags: '--resume <run>', description: 'continue an interrupted run folder from its last checkpoint' },
  { flags: '--nproc-per-node <n>', description: 'data-parallel training: start n worker processes here (one per GPU), as torchrun does; --batch stays the global batch' },
  { flags: '--dist-backend <b>', description: 'auto (nccl on CUDA, else gloo) | gloo | nccl [auto]' },
  { flags: '--dist-timeout <s>', description: 'seconds to wait for every rank at rendezvous and in each collective before failing [1800]' },
  { flags: '--sync-bn', description: 'data-parallel training: BatchNorm layers that train (layer4\'s with the default --trainable) take their statistics over the global batch across ranks, as torch.nn.SyncBatchNorm; a single process trains exactly as without it [per-rank statistics, as DDP]' },
  ...RECIPE_OPTIONS,
];

type Flags = Record<string, string | boolean | undefined>;

function parseMag(v: string): TrainMagnification | 'all' {
  const word = v.trim().toLowerCase();
  if (word === 'all' || word === 'pooled') return word;
  const mag = normaliseMagnification(v);
  if (!mag) throw invalid(`one of ${[...TRAIN_MAGNIFICATIONS, 'all'].join(', ')}`, '--mag', v);
  return mag;
}

function perClassOf(v: string | undefined): number | null | undefined {
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'all') return null;
  return num('--per-class', v);
}

/** Flags → overrides of the recipe; flags not given stay undefined so the recipe's defaults apply. */
export function overridesFromFlags(o: Flags): TrainOverrides {
  const s = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  if (!s('data') && !s('manifest') && !s('split')) throw new Error('--data is required: the folder holding the BreakHis images (or --manifest / --split).');
  const rotation = num('--rotation', s('rotation'), false);
  const hedStrength = num('--stain-augment', s('stainAugment'), false);
  return {
    data: s('data') ?? path.dirname(path.resolve(s('manifest') ?? s('split')!)),
    manifest: s('manifest'), split: s('split'),
    weights: s('weights'),
    trainable: oneOf('--trainable', s('trainable'), TRAINABLE_POLICIES),
    maxEpochs: num('--epochs', s('epochs')), patience: num('--patience', s('patience')),
    learningRate: num('--lr', s('lr'), false), weightDecay: num('--weight-decay', s('weightDecay'), false),
    augmentation: { maxRotationDegrees: rotation, hedStrength },
    stainNorm: oneOf('--stain-norm', s('stainNorm'), STAIN_METHODS), stainTarget: s('stainTarget'),
    device: s('device'), precision: oneOf('--precision', s('precision'), PRECISIONS),
    imageSize: num('--image-size', s('imageSize')), seed: num('--seed', s('seed')),
    runsDir: s('runs'), batchSize: num('--batch', s('batch')), perClass: perClassOf(s('perClass')),
    decodeConcurrency: num('--decode-concurrency', s('decodeConcurrency')),
    deviceImages: oneOf('--device-images', s('deviceImages'), ['auto', 'off'] as const),
    deviceImageBudgetMegabytes: num('--device-image-budget', s('deviceImageBudget'), false),
    learningRateScaling: oneOf('--lr-scaling', s('lrScaling'), LEARNING_RATE_SCALINGS),
    evalBatchSize: num('--eval-batch', s('evalBatch')),
    decodeCache: s('decodeCache'), decodeCacheGigabytes: num('--decode-cache-size', s('decodeCacheSize'), false),
    gallery: o.gallery === false ? null : undefined,
    syncBatchNorm: o.syncBn === true ? true : undefined,
  };
}

function intList(flag: string, v: string): number[] {
  return v.split(',').map((x) => num(flag, x.trim())!);
}

/** The CLI's own arguments without `--nproc-per-node N` (what each worker runs). */
function workerArguments(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--nproc-per-node') i++;
    else if (!argv[i].startsWith('--nproc-per-node=')) out.push(argv[i]);
  }
  return out;
}

/** Joins the world described by torchrun's environment, or returns undefined for a plain run. */
async function joinFromEnv(o: Flags, identity: unknown): Promise<DistributedContext | undefined> {
  const env = readDistributedEnv();
  if (!env) return undefined;
  const requested = oneOf('--dist-backend', typeof o.distBackend === 'string' ? o.distBackend : undefined, ['auto', ...DIST_BACKENDS] as const) ?? 'auto';
  const device = typeof o.device === 'string' ? o.device : R.device;
  const backend = requested !== 'auto' ? requested
    : (device.startsWith('cuda') || (device === 'auto' && cudaAvailable())) && ProcessGroup.backendAvailable('nccl') ? 'nccl' : 'gloo';
  const timeoutSeconds = num('--dist-timeout', typeof o.distTimeout === 'string' ? o.distTimeout : undefined, false) ?? 1800;
  if (!(timeoutSeconds > 0)) throw invalid('a positive number of seconds', '--dist-timeout', o.distTimeout);
  return DistributedContext.join({ env, backend, timeoutSeconds }, configHash(identity));
}

/** --weights imagenet without the file: fetch it (--fetch-weights) or ask, once the other flags were accepted and the data is there. */
async function offerWeights(base: TrainOverrides, o: Flags, json: boolean, signal?: AbortSignal): Promise<void> {
  if (!fs.existsSync(base.data)) return; // trainRun says the folder is missing
  await offerImagenetWeights(base.weights ?? R.weights, { fetch: o.fetchWeights === true, json, signal });
}

function numberList(flag: string, v: string): number[] {
  return v.split(',').map((x) => num(flag, x.trim(), false)!);
}

/** Signals that stop a training gracefully: Ctrl-C, a scheduler's SIGTERM, a closed terminal's SIGHUP. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `fn` with an AbortSignal wired to STOP_SIGNALS; a second signal exits immediately. */
async function withInterrupt<T>(json: boolean, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const ignore = (): void => undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    if (name === 'SIGHUP') {
      // The terminal is gone: writing to it fails (EIO), which must not crash the graceful stop.
      process.stdout.on('error', ignore);
      process.stderr.on('error', ignore);
    } else if (!json) {
      process.stderr.write(`\nStopping after the current batch (${name === 'SIGINT' ? 'Ctrl-C' : name}; Ctrl-C again to quit now)…\n`);
    }
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

function finish(results: TrainRunResult[]): void {
  // 130: the shell's code for "stopped by Ctrl-C", for SIGTERM and SIGHUP too; the run is resumable.
  if (results.some((r) => r.status === 'interrupted')) process.exitCode = 130;
}

function faithfulnessImages(v: string): number {
  const n = num('--faithfulness', v)!;
  if (n < 0) throw invalid('non-negative integer', '--faithfulness', v);
  return n;
}

function faithfulnessLines(f: FaithfulnessSummary | undefined): string[] {
  if (!f) return [];
  return [`explanation faithfulness on ${f.images} test images (seed ${f.seed}; random order in brackets; ${f.seconds.toFixed(0)} s):`,
    ...Object.entries(f.methods).map(([method, s]) => `  ${method.padEnd(9)} deletion AUC ${s.deletion.toFixed(3)} [${s.randomDeletion.toFixed(3)}] ` +
      `(lower is better)  insertion AUC ${s.insertion.toFixed(3)} [${s.randomInsertion.toFixed(3)}] (higher is better)`)];
}

function printMetrics(m: RunMetrics | { test: RunMetrics['test']; threshold: number; faithfulness?: FaithfulnessSummary; precision?: Precision }, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ event: 'metrics', ...m }) + '\n');
    return;
  }
  const t = m.test;
  const cm = t.confusionMatrix;
  const threshold = typeof m.threshold === 'number' ? m.threshold : m.threshold.threshold;
  const p = (x: number): string => x.toFixed(3);
  process.stdout.write([
    `Test: ${t.counts.images} images (${t.counts.malignant} M / ${t.counts.benign} B), ${t.counts.patients} patients; threshold ${p(threshold)} (chosen on validation)` +
      (m.precision ? `; computed in ${m.precision}` : ''),
    '                 pred malignant  pred benign',
    `true malignant   ${String(cm.tp).padStart(14)}  ${String(cm.fn).padStart(11)}`,
    `true benign      ${String(cm.fp).padStart(14)}  ${String(cm.tn).padStart(11)}`,
    `accuracy ${p(t.metrics.accuracy)}  weighted F1 ${p(t.metrics.weightedF1)}  sensitivity ${p(t.metrics.sensitivity)}  specificity ${p(t.metrics.specificity)}` +
      `  ROC-AUC ${t.roc.auc === null ? '—' : p(t.roc.auc)}  ECE ${p(t.calibration.ece)}`,
    `patient-level recognition rate ${p(t.patientLevel.recognitionRate)} (${p(t.patientLevel.confidenceInterval.lower)}–${p(t.patientLevel.confidenceInterval.upper)}: ` +
      `${describeInterval(t.patientLevel.confidenceInterval, t.counts.patients)})`,
    ...faithfulnessLines(m.faithfulness),
  ].join('\n') + '\n');
}

/** `histoscope train` after the world (if any) is joined: a resume, or one run per magnification. */
async function trainCommand(o: Flags, json: boolean, run: TrainRunOptions): Promise<void> {
  if (typeof o.resume === 'string') {
    const r = await resumeRun(o.resume, run);
    if (r.metrics) printMetrics(r.metrics, json);
    return finish([r]);
  }
  const base = overridesFromFlags(o);
  const mag = parseMag(String(o.mag));
  // Ranks of a distributed run do not download: each would race for the same file.
  if (!run.dist) await offerWeights(base, o, json, run.signal);
  let mags: TrainMagnification[] = mag === 'all' ? [] : [mag];
  let manifest: Manifest | undefined;
  if (mag === 'all') {
    // Index once for the four runs.
    manifest = base.split ? undefined : await sharedManifest(base, (total) => createProgress({ label: 'index', total, json }));
    mags = magnificationsIn(manifest);
    if (mags.length === 0) throw new Error(`No BreakHis images found in ${base.data}; check --data.`);
  }
  const results: TrainRunResult[] = [];
  for (const m of mags) {
    const r = await trainRun({ ...base, magnification: m }, {
      ...run, manifest, indexProgress: (total) => createProgress({ label: 'index', total, json }),
    });
    results.push(r);
    if (r.metrics) printMetrics(r.metrics, json);
    if (r.status === 'interrupted') break;
  }
  finish(results);
}

export function registerTrainCommands(program: Command): void {
  addOptions(program.command('train')
    .description('fine-tune ResNet-50 with the study\'s recipe; one run folder per magnification under runs/'), TRAIN_OPTIONS)
    .action(action(async (o: Flags) => {
      const json = o.json === true;
      if (o.nprocPerNode !== undefined) {
        const n = num('--nproc-per-node', String(o.nprocPerNode))!;
        if (readDistributedEnv()) throw new Error('--nproc-per-node starts its own world, but RANK/WORLD_SIZE are already set (torchrun, srun): drop one of the two.');
        const r = await launchWorkers({ nprocPerNode: n, command: process.execPath, args: [...process.execArgv, ...workerArguments(process.argv.slice(1))] });
        process.exitCode = r.exitCode;
        return;
      }
      // Every rank must run the same command: the hash of its arguments is compared at rendezvous.
      const dist = await joinFromEnv(o, { ...o, json: undefined });
      // Rank 0 reports; the other ranks stay quiet unless they fail.
      const onEvent = dist && !dist.isWriter ? undefined : createTrainReporter({ json });
      const run = { onEvent, dist };
      try {
        await withInterrupt(json, async (signal) => trainCommand(o, json, { ...run, signal }));
      } finally {
        dist?.close();
      }
    }));

  program.command('evaluate').argument('<run>', 'run folder')
    .description('score a run\'s best checkpoint: its test split (threshold from validation), or --split / --data')
    .option('--split <file>', 'test part of this split file instead')
    .option('--data <dir>', 'every image of this folder (at the run\'s magnification) instead')
    .option('--device <d>', 'auto | cpu | cuda | cuda:N')
    .option('--precision <p>', `run best.pt in ${PRECISIONS.join(' or ')} (default: as trained); the card, once promoted, says so and serving follows it`)
    .option('--faithfulness <n>', 'also score Grad-CAM and Grad-CAM++ faithfulness (deletion/insertion AUC) on n seeded test images', '0')
    .option('--no-gallery', 'write no Grad-CAM gallery of test images and top losses this time')
    .option('--stain-shift', 'test metrics under seeded HED stain perturbations, with and without the model\'s stain normalisation: stain-shift.{md,json} and plots/stain-shift in the run', false)
    .option('--stain-strengths <list>', `perturbation strengths for --stain-shift [${DEFAULT_STAIN_SHIFT_STRENGTHS.join(',')}]`)
    .option('--stain-seed <n>', 'seed of the --stain-shift perturbations [the run\'s seed]')
    .option('--other-normaliser', 'with --stain-shift, also evaluate with the normaliser the model does not use', false)
    .option('--json', 'metrics as one JSON line', false)
    .action(action(async (run: string, o: Flags) => {
      const json = o.json === true;
      const options = {
        device: o.device as string | undefined, onEvent: json ? undefined : createTrainReporter({ json }),
        precision: oneOf('--precision', o.precision as string | undefined, PRECISIONS),
        faithfulness: faithfulnessImages(o.faithfulness as string), gallery: o.gallery !== false,
      };
      if (o.stainShift === true) {
        const strengths = typeof o.stainStrengths === 'string' ? numberList('--stain-strengths', o.stainStrengths) : undefined;
        const r = await evaluateStainShift(run, { device: options.device, precision: options.precision, onEvent: options.onEvent, strengths, seed: num('--stain-seed', o.stainSeed as string | undefined), otherNormaliser: o.otherNormaliser === true });
        if (json) process.stdout.write(JSON.stringify({ event: 'stain-shift', ...r }) + '\n');
        else process.stdout.write(`${formatStainShiftTable(r)}\nWrote ${path.join(run, STAIN_SHIFT_FILES.markdown)}, ${STAIN_SHIFT_FILES.json} and ${STAIN_SHIFT_FILES.plot}.svg/.png\n`);
        return;
      }
      const source = { split: o.split as string | undefined, data: o.data as string | undefined };
      const m = source.split || source.data ? await evaluateExternal(run, { ...options, ...source }) : await evaluateRun(run, options);
      printMetrics(m, json);
    }));

  addOptions(program.command('sweep')
    .description('train the grid batch × images per class for each magnification; best per magnification by validation weighted F1'), [
    { flags: '--mag <m>', description: 'all, pooled, or a list such as 40X,100X', defaultValue: 'all' },
    { flags: '--batch <list>', description: 'batch sizes, e.g. 32,64', defaultValue: '32,64' },
    { flags: '--per-class <list>', description: 'images per class, e.g. 500,600', defaultValue: '500,600' },
    ...RECIPE_OPTIONS,
  ]).action(action(async (o: Flags) => {
    const json = o.json === true;
    // --batch and --per-class are lists here: the grid, not one override.
    const base = overridesFromFlags({ ...o, batch: undefined, perClass: undefined });
    const mags = String(o.mag).toLowerCase() === 'all' ? 'all' as const : String(o.mag).split(',').map((m) => {
      const v = parseMag(m);
      if (v === 'all') throw new Error('--mag takes all alone or a list of magnifications.');
      return v;
    });
    await offerWeights(base, o, json);
    await withInterrupt(json, async (signal) => {
      const r = await runSweep(base, { magnifications: mags, batchSizes: intList('--batch', String(o.batch)), perClass: intList('--per-class', String(o.perClass)) },
        { onEvent: createTrainReporter({ json }), signal, indexProgress: (total) => createProgress({ label: 'index', total, json }) });
      if (json) process.stdout.write(JSON.stringify({ event: 'sweep', dir: r.dir, status: r.status, rows: r.rows, best: r.best }) + '\n');
      else process.stdout.write(`${r.markdown}\nWrote ${path.join(r.dir, 'sweep.md')} and sweep.json\n`);
      if (r.status === 'interrupted') process.exitCode = 130;
    });
  }));

  addOptions(program.command('cv')
    .description('patient-wise k-fold cross-validation; mean ± std of every test metric'), [
    { flags: '--mag <m>', description: '40X | 100X | 200X | 400X | pooled | all (one CV each)', defaultValue: 'all' },
    { flags: '--folds <k>', description: 'number of folds', defaultValue: '5' },
    { flags: '--batch <n>', description: `batch size [${R.batchSize}]` },
    { flags: '--per-class <n>', description: `images per class per magnification, or all [${R.perClass}]` },
    ...RECIPE_OPTIONS,
  ]).action(action(async (o: Flags) => {
    const json = o.json === true;
    const base = overridesFromFlags(o);
    const folds = num('--folds', String(o.folds))!;
    const mag = parseMag(String(o.mag));
    await offerWeights(base, o, json);
    const manifest = await sharedManifest(base, (total) => createProgress({ label: 'index', total, json }));
    const mags = mag === 'all' ? magnificationsIn(manifest) : [mag];
    await withInterrupt(json, async (signal) => {
      for (const m of mags) {
        const r = await runCrossValidation({ ...base, magnification: m }, folds, { onEvent: createTrainReporter({ json }), signal, manifest });
        if (json) process.stdout.write(JSON.stringify({ event: 'cv', magnification: m, dir: r.dir, status: r.status, runs: r.runs, summary: r.summary }) + '\n');
        else {
          const acc = r.summary?.metrics['metrics.accuracy'];
          process.stdout.write(`${r.markdown}\n${acc ? `${m}: test accuracy ${formatMeanStd(acc)}\n` : ''}Wrote ${path.join(r.dir, 'cv.md')} and cv.json\n`);
        }
        if (r.status === 'interrupted') {
          process.exitCode = 130;
          break;
        }
      }
    });
  }));

  program.command('promote').argument('<run>', 'finished run folder')
    .description('install a run\'s best model as models/<mag>/ (model.pt, card.json, plots) for predict and the web UI')
    .option('--models <dir>', 'models folder', 'models')
    .option('--json', 'the card as JSON', false)
    .action(action(async (run: string, o: Flags) => {
      // Notices (debris of a killed promotion) go to stderr, so --json stays one line on stdout.
      const card = await promoteRun(run, String(o.models), { onEvent: createTrainReporter({ json: false }) });
      if (o.json === true) process.stdout.write(JSON.stringify(card) + '\n');
      else {
        process.stdout.write(`Installed ${card.id} as ${path.join(String(o.models), card.magnification)}${card.demo ? ' (DEMO: trained on synthetic images, not tissue)' : ''}: ` +
          `test accuracy ${card.metrics.test.metrics.accuracy.toFixed(3)}, weighted F1 ${card.metrics.test.metrics.weightedF1.toFixed(3)}, threshold ${card.threshold.toFixed(3)}\n`);
      }
    }));
}
