// A size-bounded LRU of decoded, resized images, so later epochs skip PNG decoding.
// Bounded by bytes, not entries: 224×224×3 is 150 KB, a 700×460 image 966 KB.
import { expectNumber } from '../util/expect';

export class ImageCache {
  private readonly items = new Map<string, Buffer>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {
    expectNumber(maxBytes, 'cache size in bytes', 0);
  }

  get size(): number {
    return this.items.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(key: string): Buffer | undefined {
    const v = this.items.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert to mark as most recently used.
    this.items.delete(key);
    this.items.set(key, v);
    return v;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.maxBytes) return;
    const old = this.items.get(key);
    if (old) {
      this.bytes -= old.length;
      this.items.delete(key);
    }
    this.items.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.items) {
      if (this.bytes <= this.maxBytes) break;
      this.items.delete(k);
      this.bytes -= v.length;
    }
  }
}
