// A bounded queue in front of the models: at most `concurrency` analyses run at once and at most
// `maxWaiting` wait; beyond that a request is refused at once (429 with Retry-After) instead of
// piling up until every client times out. A request takes its place (admit) before its body is
// read, so a full queue refuses without reading the upload. Work that waited past its deadline is
// dropped unstarted, and so is work whose client has gone (its AbortSignal fired): it leaves the line.
import { HttpError } from './http-error';

export interface QueueOptions {
  concurrency: number;
  maxWaiting: number;
}

/** A task gets a signal that fires when its client has gone, to skip work nobody will receive. */
export type QueueTask<T> = (signal: AbortSignal) => Promise<T>;

/** A place in line, held while the request body is read. */
export interface Admission {
  run<T>(task: QueueTask<T>, deadlineMs: number, signal?: AbortSignal): Promise<T>;
  /** Gives the place back if run() was not called (idempotent). */
  release(): void;
}

interface Waiting {
  start: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** The client went away; nobody will read the answer (the status is for logs only). */
export class AbandonedError extends HttpError {
  constructor() {
    super(499, 'The client closed the connection before the analysis finished.');
  }
}

const NEVER = new AbortController().signal;

export class WorkQueue {
  private running = 0;
  /** Admitted requests still reading their upload. */
  private reserved = 0;
  private readonly waiting: Waiting[] = [];
  /** Moving average of task durations, for Retry-After. */
  private averageMs = 500;
  /** Tasks started, and tasks dropped from the line because their client left. */
  private started = 0;
  private abandoned = 0;

  constructor(private readonly options: QueueOptions) {}

  get stats(): { running: number; waiting: number; uploading: number; started: number; abandoned: number; concurrency: number; maxWaiting: number } {
    return { running: this.running, waiting: this.waiting.length, uploading: this.reserved, started: this.started, abandoned: this.abandoned, ...this.options };
  }

  /** Seconds until a slot is likely free: the work ahead divided among the workers. */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + this.reserved + this.running;
    return Math.max(1, Math.ceil((ahead * this.averageMs) / this.options.concurrency / 1000));
  }

  busy(): HttpError {
    const seconds = this.retryAfterSeconds();
    return new HttpError(429, `The server is busy analysing other images. Try again in about ${seconds} second${seconds === 1 ? '' : 's'}.`,
      { 'Retry-After': String(seconds) });
  }

  private full(): boolean {
    return this.running + this.waiting.length + this.reserved >= this.options.concurrency + this.options.maxWaiting;
  }

  /** Takes a place in line before the body is read; throws 429 when there is none. */
  admit(): Admission {
    if (this.full()) throw this.busy();
    this.reserved++;
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.reserved--;
    };
    return {
      release,
      run: (task, deadlineMs, signal) => {
        release();
        return this.enqueue(task, deadlineMs, signal);
      },
    };
  }

  /** Runs `task` when a slot frees; rejects with 429 when the queue is full, 503 past `deadlineMs` in line. */
  run<T>(task: QueueTask<T>, deadlineMs: number, signal?: AbortSignal): Promise<T> {
    if (this.full()) return Promise.reject(this.busy());
    return this.enqueue(task, deadlineMs, signal);
  }

  private enqueue<T>(task: QueueTask<T>, deadlineMs: number, signal: AbortSignal = NEVER): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) {
        reject(new AbandonedError());
        return;
      }
      const start = (): void => {
        this.running++;
        this.started++;
        const began = Date.now();
        task(signal).then(resolve, reject).finally(() => {
          this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - began);
          this.running--;
          this.next();
        });
      };
      if (this.running < this.options.concurrency) {
        start();
        return;
      }
      const leave = (err: Error): void => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        clearTimeout(entry.timer);
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => {
        this.abandoned++;
        leave(new AbandonedError());
      };
      const entry: Waiting = {
        start: () => {
          signal.removeEventListener('abort', onAbort);
          start();
        },
        reject,
        timer: setTimeout(() => leave(new HttpError(503, 'The server was too busy to start this analysis in time. Please try again.',
          { 'Retry-After': String(this.retryAfterSeconds()) })), deadlineMs),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private next(): void {
    const entry = this.waiting.shift();
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.start();
  }
}
