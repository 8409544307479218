// Memory under an upload burst: N simultaneous large uploads (default 100 × 19 MB, a valid noise
// PNG of 6.5 megapixels) to a server in a child process on 127.0.0.1, the server's RSS sampled
// every 20 ms from /proc: idle before, peak during each burst, and after it settles. Also the
// answers (200 / 429 with Retry-After / other). Loopback only; every request has a deadline.
// Not a test: numbers depend on the machine and its load.
// Run: node --import tsx bench/upload-burst.ts [--uploads 100] [--mb 19] [--bursts 3] [--settle-ms 5000]
//      [--server-root DIR]   (serve from another checkout, e.g. a `git worktree` of an older commit)
import { fork, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

import { installModel, tmpDir } from '../test/infer/model-fixture';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The server role: serve the models folder on an ephemeral loopback port, report it to the parent. */
async function serve(modelsDir: string, root: string): Promise<void> {
  const { startServer } = (await import(path.join(root, 'src', 'web', 'server'))) as typeof import('../src/web/server');
  const { server } = await startServer({ port: 0, host: '127.0.0.1', modelsDir, log: () => undefined });
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** A PNG of random pixels (incompressible) of about `mb` megabytes. */
async function noisePng(mb: number): Promise<Buffer> {
  const side = Math.round(Math.sqrt((mb * 1e6) / 3));
  const raw = randomFillSync(Buffer.alloc(side * side * 3));
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
}

async function upload(url: string, body: Buffer): Promise<string> {
  try {
    const res = await fetch(`${url}/api/predict?mag=100X`, {
      method: 'POST', body, headers: { 'content-type': 'image/png' }, signal: AbortSignal.timeout(120_000),
    });
    await res.arrayBuffer();
    return res.status === 429 && !res.headers.get('retry-after') ? '429 without Retry-After' : String(res.status);
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return `failed: ${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
  }
}

async function main(): Promise<void> {
  const uploads = arg('uploads', 100);
  const mb = arg('mb', 19);
  const bursts = arg('bursts', 3);
  const settleMs = arg('settle-ms', 5000);
  const modelsDir = tmpDir('burst-models');
  await installModel(modelsDir, '100X', { imageSize: 224 });
  const body = await noisePng(mb);
  const root = path.resolve(process.argv.includes('--server-root') ? process.argv[process.argv.indexOf('--server-root') + 1] : path.join(__dirname, '..'));
  const child: ChildProcess = fork(__filename, ['--serve', modelsDir, root], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}`;
    // Warm up: load the model and run one analysis of a BreakHis-sized image.
    await upload(url, await sharp({ create: { width: 700, height: 460, channels: 3, background: '#d8a0c0' } }).png().toBuffer());
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMb(child.pid!);
    const results: Record<string, unknown> = {
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      server: root, upload: `${uploads} × ${(body.length / 1e6).toFixed(1)} MB PNG`, idleRssMb: +idle.toFixed(0), bursts: [] as unknown[],
    };
    console.log(`server idle RSS ${idle.toFixed(0)} MB; ${results.upload as string}`);
    for (let b = 1; b <= bursts; b++) {
      let peak = rssMb(child.pid!);
      const sampler = setInterval(() => { peak = Math.max(peak, rssMb(child.pid!)); }, 20);
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: uploads }, () => upload(url, body)));
      const seconds = (Date.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, settleMs));
      clearInterval(sampler);
      const counts: Record<string, number> = {};
      for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
      const after = rssMb(child.pid!);
      const burst = { burst: b, answers: counts, seconds: +seconds.toFixed(1), peakRssMb: +peak.toFixed(0), peakAboveIdleMb: +(peak - idle).toFixed(0), afterRssMb: +after.toFixed(0) };
      (results.bursts as unknown[]).push(burst);
      console.log(JSON.stringify(burst));
    }
    const out = path.resolve(__dirname, 'out', 'upload-burst.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`wrote ${out}`);
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3], process.argv[4]).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
} else {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
