// Bounds the bytes held by uploads in flight (being read, waiting in the queue, being analysed),
// so a burst of large uploads costs at most this much memory: an upload that would exceed it is
// refused with 429 and Retry-After before (or while) its body is read. When the last upload of
// a burst is released, its memory is given back (see upload-memory.ts).
import { HttpError } from './http-error';
import { releaseAfterBurst } from './upload-memory';

export interface Allowance {
  /** Makes the upload's share at least `bytes`; false (nothing taken) when the budget has no room. */
  cover(bytes: number): boolean;
  release(): void;
}

/** Bytes held at once above which, once all are released, memory is given back. */
const BURST_BYTES = 32 * 1024 * 1024;

export class UploadBudget {
  private used = 0;
  private peak = 0;
  private release?: NodeJS.Timeout;

  constructor(readonly limit: number) {}

  get bytesInFlight(): number {
    return this.used;
  }

  allowance(): Allowance {
    let held = 0;
    return {
      cover: (bytes) => {
        if (bytes <= held) return true;
        if (this.used + (bytes - held) > this.limit) return false;
        this.used += bytes - held;
        held = bytes;
        this.peak = Math.max(this.peak, this.used);
        clearTimeout(this.release);
        return true;
      },
      release: () => {
        this.used -= held;
        held = 0;
        if (this.used === 0 && this.peak >= BURST_BYTES) {
          this.peak = 0;
          this.release = releaseAfterBurst();
        }
      },
    };
  }

  refusal(retryAfterSeconds: number): HttpError {
    return new HttpError(429, `The server is receiving too many large uploads at once. Try again in about ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
      { 'Retry-After': String(retryAfterSeconds) });
  }
}
