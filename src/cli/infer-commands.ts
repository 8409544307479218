// `histoscope predict | gradcam | serve`: commander wiring only. Each action calls a src/infer or
// src/web function the tests call too; failures print one line and exit 1. `predict` exits
// PREDICT_SOME_FAILED when some inputs became error rows (the rows are still written).
import * as path from 'node:path';
import type { Command } from 'commander';

import { createProgress, type Magnification } from '../data';
import {
  DEFAULT_OPACITY, DEMO_WARNING, explanationFaithfulness, magnificationFor, ModelRegistry, predictFiles, predictionsToCsv, renderGradcam,
  writePredictions,
} from '../infer';
import { CAM_METHODS, type CamMethod, PRECISIONS } from '../native';
import { writeFileAtomic } from '../util/atomic-write';
import { action, addOptions, num, oneOf, type OptionSpec, parseMagnifications } from './options';

// Inference only: bf16 is ~3× faster on CPUs with AMX (and on GPUs); rows and pages then say so.
const PRECISION_OPTION: OptionSpec = {
  flags: '--precision <p>', description: `run the models in ${PRECISIONS.join(' or ')} (default: the one each model card was measured in)`,
};

const PREDICT_OPTIONS: OptionSpec[] = [
  { flags: '--mag <mag>', description: 'model magnification (40X, 100X, 200X, 400X); default: from each BreakHis file name' },
  { flags: '--models <dir>', description: 'installed models folder', defaultValue: 'models' },
  { flags: '-o, --out <file>', description: 'write predictions to a .csv or .json file (default: CSV on stdout)' },
  { flags: '--gradcam <dir>', description: 'also write a Grad-CAM overlay and heatmap per image into this folder' },
  { flags: '--method <m>', description: 'explanation for --gradcam: gradcam or gradcam++', defaultValue: 'gradcam' },
  { flags: '--tta', description: 'average over the 8 flips/right-angle rotations', defaultValue: false },
  { flags: '--batch <n>', description: 'images per forward pass (default: 32 on a GPU, 8 on CPU, where larger batches are slower)' },
  { flags: '--json', description: 'progress as JSON lines on stderr', defaultValue: false },
  PRECISION_OPTION,
];

const GRADCAM_OPTIONS: OptionSpec[] = [
  { flags: '--mag <mag>', description: 'model magnification; default: from the BreakHis file name' },
  { flags: '--models <dir>', description: 'installed models folder', defaultValue: 'models' },
  { flags: '--target <class>', description: 'class to explain: benign or malignant (default: the predicted one)' },
  { flags: '-o, --out <dir>', description: 'folder for <name>.heatmap.png and <name>.overlay.png', defaultValue: '.' },
  { flags: '--opacity <f>', description: 'heatmap weight in the overlay, 0..1', defaultValue: String(DEFAULT_OPACITY) },
  { flags: '--method <m>', description: 'gradcam (Selvaraju et al. 2017) or gradcam++ (Chattopadhay et al. 2018)', defaultValue: 'gradcam' },
  { flags: '--no-faithfulness', description: 'skip the deletion/insertion faithfulness score (44 extra forward passes)' },
  { flags: '--json', description: 'print the result as one JSON object', defaultValue: false },
  PRECISION_OPTION,
];

const SERVE_OPTIONS: OptionSpec[] = [
  { flags: '--port <n>', description: 'port (env PORT)', defaultValue: process.env.PORT ?? '3000' },
  { flags: '--host <host>', description: 'interface to listen on (env HOST)', defaultValue: process.env.HOST ?? '127.0.0.1' },
  { flags: '--models <dir>', description: 'installed models folder', defaultValue: 'models' },
  { flags: '--results-ttl <minutes>', description: 'how long each result link (/results/:id) stays reachable in memory', defaultValue: '60' },
  { flags: '--keep-results <dir>', description: 'also keep every result in this folder, reachable for as long as it is there' },
  PRECISION_OPTION,
];

/** Exit code of `histoscope predict` when some inputs failed (1 stays "the command failed"). */
export const PREDICT_SOME_FAILED = 3;

function oneMagnification(v: string | undefined): Magnification | undefined {
  const mags = parseMagnifications(v);
  if (mags && mags.length !== 1) throw new Error(`--mag expects one magnification, got "${v}".`);
  return mags?.[0];
}

function parseMethod(v: string): CamMethod {
  if (!(CAM_METHODS as readonly string[]).includes(v)) throw new Error(`--method expects ${CAM_METHODS.join(' or ')}, got "${v}".`);
  return v as CamMethod;
}

function parseTarget(v: string | undefined): 0 | 1 | undefined {
  if (v === undefined) return undefined;
  if (v === 'benign') return 0;
  if (v === 'malignant') return 1;
  throw new Error(`--target expects benign or malignant, got "${v}".`);
}

export function registerInferCommands(program: Command): void {
  addOptions(program.command('predict').argument('<paths...>', 'image files, folders or quoted globs')
    .description('predict benign/malignant for many PNG/JPEG images (CSV or JSON; refused or unreadable inputs become error rows, exit code 3)'), PREDICT_OPTIONS)
    .action(action(async (paths: string[], o: Record<string, string | boolean>) => {
      const precision = oneOf('--precision', o.precision as string | undefined, PRECISIONS);
      const result = await predictFiles({
        inputs: paths,
        magnification: oneMagnification(o.mag as string | undefined),
        modelsDir: o.models as string,
        precision,
        batchSize: num('--batch', o.batch as string),
        tta: o.tta === true,
        gradcamDir: o.gradcam as string | undefined,
        gradcamMethod: parseMethod(o.method as string),
        progress: (total) => createProgress({ label: 'predict', total, json: o.json === true }),
      });
      if (o.out) await writePredictions(path.resolve(o.out as string), result);
      else process.stdout.write(predictionsToCsv(result.rows));
      const s = result.summary;
      process.stderr.write(`${s.predicted} of ${s.files} images predicted (${s.errors} error${s.errors === 1 ? '' : 's'}) in ${s.seconds.toFixed(1)} s, ` +
        `${s.imagesPerSecond.toFixed(1)} images/s${o.out ? `; wrote ${o.out}` : ''}\n`);
      for (const r of result.rows.filter((row) => row.error).slice(0, 10)) process.stderr.write(`  ${r.path}: ${r.error}\n`);
      const doubtful = result.rows.filter((row) => row.warnings.length > 0);
      if (doubtful.length) {
        process.stderr.write(`${doubtful.length} image${doubtful.length === 1 ? '' : 's'} may not be like the training images (column ood_warnings):\n`);
        for (const r of doubtful.slice(0, 10)) process.stderr.write(`  ${r.path}: ${r.warnings.map((w) => w.message).join(' ')}\n`);
      }
      if (s.demo) process.stderr.write(`WARNING: ${DEMO_WARNING}\n`);
      if (precision) process.stderr.write(`NOTE: computed in ${precision} (column precision); rows whose model card was measured in another precision say so in column warning.\n`);
      if (s.errors > 0) process.exitCode = PREDICT_SOME_FAILED;
    }));

  addOptions(program.command('gradcam').argument('<image>', 'one image file')
    .description('write a Grad-CAM heatmap and overlay at the image\'s size, and print the prediction'), GRADCAM_OPTIONS)
    .action(action(async (image: string, o: Record<string, string | boolean>) => {
      const choice = magnificationFor(image, oneMagnification(o.mag as string | undefined));
      if (!choice.ok) throw new Error(choice.error.replace('choose one', 'pass --mag'));
      const method = parseMethod(o.method as string);
      const registry = new ModelRegistry({ modelsDir: o.models as string, precision: oneOf('--precision', o.precision as string | undefined, PRECISIONS) });
      try {
        const loaded = await registry.get(choice.magnification);
        const opacity = num('--opacity', o.opacity as string, false)!;
        const pictures = await renderGradcam(loaded, image, { targetClass: parseTarget(o.target as string | undefined), opacity, method });
        const stem = path.join(o.out as string, path.basename(image).replace(/\.[^.]+$/, ''));
        await writeFileAtomic(`${stem}.heatmap.png`, pictures.heatmapPng);
        await writeFileAtomic(`${stem}.overlay.png`, pictures.overlayPng);
        const faith = o.faithfulness === false ? undefined : await explanationFaithfulness(loaded, pictures);
        const p = pictures.prediction;
        const target = pictures.targetClass === 1 ? 'malignant' : 'benign';
        if (o.json === true) {
          process.stdout.write(JSON.stringify({
            image, prediction: p, method, targetClass: target, width: pictures.width, height: pictures.height,
            warnings: pictures.warnings, faithfulness: faith ?? null,
            files: { heatmap: `${stem}.heatmap.png`, overlay: `${stem}.overlay.png` },
          }) + '\n');
        } else {
          const name = method === 'gradcam++' ? 'Grad-CAM++' : 'Grad-CAM';
          process.stdout.write(`${image}: ${p.label} (P(malignant) = ${p.probabilities.malignant.toFixed(3)}, threshold ${p.threshold.toFixed(3)}) ` +
            `with ${p.modelId}; ${name} for ${target} at ${pictures.width}×${pictures.height}\n` +
            `wrote ${stem}.heatmap.png and ${stem}.overlay.png\n`);
          if (faith) {
            process.stdout.write(`faithfulness (P(${target}) as the most-highlighted pixels go; random order in brackets): ` +
              `deletion AUC ${faith.deletion.toFixed(3)} [${faith.randomDeletion.toFixed(3)}] (lower is better), ` +
              `insertion AUC ${faith.insertion.toFixed(3)} [${faith.randomInsertion.toFixed(3)}] (higher is better)\n`);
          }
        }
        for (const w of pictures.warnings) process.stderr.write(`WARNING (${w.code}): ${w.message}\n`);
        if (p.demo) process.stderr.write(`WARNING: ${DEMO_WARNING}\n`);
        if (p.precisionNote) process.stderr.write(`NOTE: ${p.precisionNote}\n`);
      } finally {
        registry.dispose();
      }
    }));

  addOptions(program.command('serve').description('serve the web UI and JSON API'), SERVE_OPTIONS)
    .action(action(async (o: Record<string, string>) => {
      const { serve } = await import('../web/serve');
      const ttlMinutes = num('--results-ttl', o.resultsTtl, false)!;
      if (!(ttlMinutes > 0)) throw new Error(`Expected a positive number of minutes for --results-ttl but received ${o.resultsTtl}.`);
      await serve({
        port: num('--port', o.port), host: o.host, modelsDir: o.models, bootstrapDemo: true, handleSignals: true,
        results: { ttlMs: ttlMinutes * 60_000, ...(o.keepResults ? { dir: o.keepResults } : {}) },
        precision: oneOf('--precision', o.precision, PRECISIONS),
      });
    }));
}
