// A split's decoded images kept on the model's device (GPU memory, or RAM for a CPU model), so
// that epochs after the first gather their batches there: no decoding, no Buffer.concat and no
// host-to-device copy of pixels. The store fills as the first epoch streams its batches through;
// until every row is written, callers stream as before.
import type { ManifestEntry } from '../data';
import { ImageStore, type ImageBatch } from '../native';

export class DeviceImages {
  private readonly rowByPath = new Map<string, number>();
  private readonly written: Uint8Array;
  private writtenCount = 0;

  private constructor(readonly store: ImageStore, entries: readonly ManifestEntry[]) {
    entries.forEach((e, i) => this.rowByPath.set(e.path, i));
    this.written = new Uint8Array(entries.length);
  }

  /** Reserves room for `entries` at size x size on `device`; throws when the device has no room. */
  static async create(entries: readonly ManifestEntry[], size: number, device: string): Promise<DeviceImages> {
    const store = await ImageStore.create({ count: entries.length, height: size, width: size, device });
    return new DeviceImages(store, entries);
  }

  /** Bytes the store holds for `count` images at size x size. */
  static bytesFor(count: number, size: number): number {
    return count * size * size * 3;
  }

  /** True once every image has been written: batches can then be gathered on the device. */
  get complete(): boolean {
    return this.writtenCount === this.written.length;
  }

  /** The entries among `entries` whose images are not in the store yet. */
  missing(entries: readonly ManifestEntry[]): ManifestEntry[] {
    return entries.filter((e) => {
      const row = this.rowByPath.get(e.path);
      return row !== undefined && !this.written[row];
    });
  }

  rowsOf(entries: readonly ManifestEntry[]): number[] {
    return entries.map((e) => {
      const row = this.rowByPath.get(e.path);
      if (row === undefined) throw new Error(`${e.path} is not one of the images kept on the device.`);
      return row;
    });
  }

  /** Writes a streamed batch's images into their rows (once per image). */
  async absorb(batch: ImageBatch & { entries: readonly ManifestEntry[] }): Promise<void> {
    const rows = this.rowsOf(batch.entries);
    if (rows.every((r) => this.written[r])) return;
    await this.store.write(rows, batch);
    for (const r of rows) {
      if (!this.written[r]) this.writtenCount++;
      this.written[r] = 1;
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}
