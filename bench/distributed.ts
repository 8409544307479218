// `npm run bench:dist`: what data-parallel training costs, measured through the real CLI
// (`histoscope train`, Gloo or NCCL, the decoded-image cache warm after the first epoch).
//   CPU (default): one process x 2 intra-op threads, the same as a world of size 1 (the pure
//     overhead of the collectives), and 2 ranks x 1 thread (--nproc-per-node 2). On 2 cores this
//     is an overhead figure, not a speed-up: the ranks share the same cores.
//   CUDA (--device cuda): non-distributed vs world size 1 over NCCL (target: <= 5% overhead), and
//     --nproc-per-node N over N GPUs (--gpus N) at batch 256 bf16 (target: >= 0.9 N speed-up).
// Throughput is images per second of the epochs after the first (epochs.jsonl), global batch equal.
// On CPU, PyTorch's own rows follow (bench/dist_reference.py, /usr/bin/python3): the same three
// configurations with DistributedDataParallel, on random images in memory and without validation,
// so they are the ceiling the pipeline's rows are measured against.
// Configurations alternate over --rounds rounds, each round starting with the next one, so that
// none always runs first or right after another; a row reports the mean of its rounds and each.
// Options: --device cpu|cuda (cpu)  --images N (192)  --epochs N (3)  --batch N (16; CUDA 256)
//          --image-size PX (224)  --gpus N (CUDA: ranks of the multi-GPU row; 0 = skip)  --threads N (2)
//          --rounds N (2)
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateSynthetic } from '../src/data';
import { readEpochLog } from '../src/train';
import { writeJsonAtomic } from '../src/util/atomic-write';

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

const device = argument('device', 'cpu');
const cuda = device.startsWith('cuda');
const images = Number(argument('images', '192'));
const epochs = Number(argument('epochs', '3'));
const batch = Number(argument('batch', cuda ? '256' : '16'));
const imageSize = argument('image-size', '224');
const threads = Number(argument('threads', '2'));
const gpus = Number(argument('gpus', '0'));
const rounds = Number(argument('rounds', '2'));
const OUT = path.join(__dirname, 'out', 'dist');
// From the sources through tsx, or compiled (the lab-server bundle's dist/bench/distributed.js).
const CLI = __filename.endsWith('.js') ? [path.join(__dirname, '..', 'src', 'cli.js')] : ['--import', 'tsx', path.join(__dirname, '..', 'src', 'cli.ts')];

interface Row { name: string; ranks: number; threadsPerRank: number; backend: string; imagesPerSecond: number; rounds: number[] }

interface Config { name: string; extra: string[]; env: NodeJS.ProcessEnv; ranks: number; threadsPerRank: number; backend: string }

/** Each configuration `rounds` times, round r starting at configuration r (mod count). */
function runAlternating(configs: Config[]): Row[] {
  const rates = configs.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < configs.length; k++) {
      const i = (r + k) % configs.length;
      const c = configs[i];
      rates[i].push(run(c.name, c.extra, c.env, c.ranks, c.threadsPerRank, c.backend).imagesPerSecond);
    }
  }
  return configs.map((c, i) => ({
    name: c.name, ranks: c.ranks, threadsPerRank: c.threadsPerRank, backend: c.backend,
    imagesPerSecond: rates[i].reduce((a, b) => a + b, 0) / rates[i].length, rounds: rates[i],
  }));
}

function run(name: string, extra: string[], env: NodeJS.ProcessEnv, ranks: number, threadsPerRank: number, backend: string): Row {
  const runs = path.join(OUT, 'runs', name.replace(/\W+/g, '-'));
  fs.rmSync(runs, { recursive: true, force: true });
  const args = [...CLI, 'train', '--data', path.join(OUT, 'data'), '--mag', '100X', '--weights', 'none', '--trainable', 'layer4+fc',
    '--image-size', imageSize, '--batch', String(batch), '--per-class', 'all', '--epochs', String(epochs), '--patience', String(epochs),
    '--device', device, '--runs', runs, '--json', ...(cuda ? ['--precision', 'bf16'] : []), ...extra];
  // The CLI's JSON progress on stderr is shown only when a run fails.
  const r = spawnSync(process.execPath, args, {
    stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, HISTOSCOPE_THREADS: String(threadsPerRank), HISTOSCOPE_DECODE_CACHE: path.join(OUT, 'cache'), ...env },
  });
  if (r.status !== 0) throw new Error(`${name} failed with exit code ${r.status}:\n${r.stderr.split('\n').filter((l) => !l.includes('"progress"')).slice(-20).join('\n')}`);
  const dir = path.join(runs, fs.readdirSync(runs).filter((d) => !d.startsWith('.'))[0]);
  const steady = readEpochLog(dir).slice(1);
  const seconds = steady.reduce((s, e) => s + e.seconds, 0);
  const ips = steady.reduce((s, e) => s + e.imagesPerSecond * e.seconds, 0) / seconds;
  process.stderr.write(`${name}: ${ips.toFixed(2)} images/s\n`);
  return { name, ranks, threadsPerRank, backend, imagesPerSecond: ips, rounds: [ips] };
}

interface ReferenceRow { name: string; imagesPerSecond: number; torch: string }

/** bench/dist_reference.py's rows, or none (with the reason on stderr) without Debian's PyTorch. */
function pytorchRows(): ReferenceRow[] {
  try {
    const out = execFileSync('/usr/bin/python3', [path.join(__dirname, 'dist_reference.py'), '--batch', String(batch), '--image-size', imageSize,
      '--threads', String(threads)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    return out.trim().split('\n').map((line) => JSON.parse(line) as ReferenceRow);
  } catch (err) {
    process.stderr.write(`PyTorch reference skipped: /usr/bin/python3 with torch and torchvision could not run it (${(err as Error).message.split('\n')[0]}).\n`);
    return [];
  }
}

async function main(): Promise<void> {
  if (epochs < 2) throw new Error('--epochs must be at least 2: the first epoch decodes and is not counted.');
  // Training patients only matter for the count: a patient-wise split keeps about half for training.
  const patients = Math.max(8, Math.round((images * 2) / 5));
  if (!fs.existsSync(path.join(OUT, 'data'))) {
    await generateSynthetic(path.join(OUT, 'data'), { patients, imagesPerPatient: 5, width: 700, height: 460, seed: 9, magnifications: ['100X'] });
  }
  const world1 = { RANK: '0', WORLD_SIZE: '1', LOCAL_RANK: '0', LOCAL_WORLD_SIZE: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29577' };
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number of at least 1 but is ${rounds}.`);
  const configs: Config[] = !cuda ? [
    { name: `1 process x ${threads} threads`, extra: [], env: {}, ranks: 1, threadsPerRank: threads, backend: 'none' },
    { name: `world of 1 (gloo) x ${threads} threads`, extra: ['--dist-backend', 'gloo'], env: world1, ranks: 1, threadsPerRank: threads, backend: 'gloo' },
    { name: `${threads} ranks (gloo) x 1 thread`, extra: ['--nproc-per-node', String(threads), '--dist-backend', 'gloo'], env: {}, ranks: threads, threadsPerRank: 1, backend: 'gloo' },
  ] : [
    { name: '1 GPU, not distributed', extra: [], env: {}, ranks: 1, threadsPerRank: threads, backend: 'none' },
    { name: 'world of 1 (nccl)', extra: ['--dist-backend', 'nccl'], env: world1, ranks: 1, threadsPerRank: threads, backend: 'nccl' },
    ...(gpus > 1 ? [{ name: `${gpus} GPUs (nccl)`, extra: ['--nproc-per-node', String(gpus), '--dist-backend', 'nccl'], env: {}, ranks: gpus, threadsPerRank: threads, backend: 'nccl' }] : []),
  ];
  const rows = runAlternating(configs);
  const base = rows[0].imagesPerSecond;
  const reference = cuda ? [] : pytorchRows();
  const lines = [
    `bench:dist on ${device}, global batch ${batch}, ${imageSize} px, ResNet-50 layer4+fc, epochs 2..${epochs} (decoded-image cache warm), ${rounds} alternating rounds`,
    '| configuration | images/s (mean) | each round | vs first row |', '|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.imagesPerSecond.toFixed(2)} | ${r.rounds.map((x) => x.toFixed(2)).join(', ')} | ${(r.imagesPerSecond / base).toFixed(3)} |`),
    ...(reference.length === 0 ? [] : [
      '', `PyTorch ${reference[0].torch}, train step only (random images in memory, no validation): the ceiling`,
      '| configuration | images/s | Histoscope row / this |', '|---|---|---|',
      ...reference.map((r, i) => `| ${r.name} | ${r.imagesPerSecond.toFixed(2)} | ${(rows[i].imagesPerSecond / r.imagesPerSecond).toFixed(3)} |`),
    ]),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await writeJsonAtomic(path.join(OUT, 'result.json'), { device, batch, imageSize, epochs, rows, pytorch: reference });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
