// Progress for long jobs: a bar on stderr when it is a terminal, JSON lines with --json,
// nothing otherwise (so logs and pipes stay clean).

export interface Progress {
  tick(done: number, detail?: string): void;
  finish(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  json?: boolean;
  stream?: NodeJS.WriteStream;
}

export const silentProgress: Progress = { tick: () => undefined, finish: () => undefined };

export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.json) {
    let lastPct = -1;
    return {
      tick(done) {
        const pct = opts.total ? Math.floor((100 * done) / opts.total) : 100;
        if (pct === lastPct && done !== opts.total) return;
        lastPct = pct;
        stream.write(JSON.stringify({ event: 'progress', task: opts.label, done, total: opts.total }) + '\n');
      },
      finish() {
        stream.write(JSON.stringify({ event: 'done', task: opts.label, total: opts.total }) + '\n');
      },
    };
  }
  if (!stream.isTTY) return silentProgress;
  let lastDraw = 0;
  const start = Date.now();
  const draw = (done: number, detail = ''): void => {
    const width = 30;
    const frac = opts.total ? done / opts.total : 1;
    const filled = Math.round(frac * width);
    const secs = ((Date.now() - start) / 1000).toFixed(0);
    const line = `${opts.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${opts.total} ${secs}s ${detail}`;
    stream.write(`\r${line.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
  };
  return {
    tick(done, detail) {
      const now = Date.now();
      if (now - lastDraw < 100 && done !== opts.total) return;
      lastDraw = now;
      draw(done, detail);
    },
    finish() {
      draw(opts.total);
      stream.write('\n');
    },
  };
}
