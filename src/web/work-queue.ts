// A bounded queue in front of the models: at most `concurrency` analyses run at once and at most
// `maxWaiting` wait; beyond that a request is refused at once (429 with Retry-After) instead of
// piling up until every client times out. Work that waited past its deadline is dropped unstarted.
import { HttpError } from './http-error';

export interface QueueOptions {
  concurrency: number;
  maxWaiting: number;
}

interface Waiting {
  start: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class WorkQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  /** Moving average of task durations, for Retry-After. */
  private averageMs = 500;

  constructor(private readonly options: QueueOptions) {}

  get stats(): { running: number; waiting: number; concurrency: number; maxWaiting: number } {
    return { running: this.running, waiting: this.waiting.length, ...this.options };
  }

  /** Seconds until a slot is likely free: the work ahead divided among the workers. */
  retryAfterSeconds(): number {
    const ahead = this.waiting.length + this.running;
    return Math.max(1, Math.ceil((ahead * this.averageMs) / this.options.concurrency / 1000));
  }

  /** Runs `task` when a slot frees; rejects with 429 when the queue is full, 503 past `deadlineMs` in line. */
  run<T>(task: () => Promise<T>, deadlineMs: number): Promise<T> {
    if (this.running >= this.options.concurrency && this.waiting.length >= this.options.maxWaiting) {
      const seconds = this.retryAfterSeconds();
      return Promise.reject(new HttpError(429, `The server is busy analysing other images. Try again in about ${seconds} second${seconds === 1 ? '' : 's'}.`,
        { 'Retry-After': String(seconds) }));
    }
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        const began = Date.now();
        task().then(resolve, reject).finally(() => {
          this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - began);
          this.running--;
          this.next();
        });
      };
      if (this.running < this.options.concurrency) {
        start();
        return;
      }
      const entry: Waiting = {
        start,
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new HttpError(503, 'The server was too busy to start this analysis in time. Please try again.', { 'Retry-After': String(this.retryAfterSeconds()) }));
        }, deadlineMs),
      };
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
