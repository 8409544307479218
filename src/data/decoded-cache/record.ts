// One decoded image as stored in a pack file: a fixed 48-byte header that names what it holds,
// then the pixels. A reader checks the header against the key it looked up and the pixels against
// the CRC, so a torn, half-written or misplaced record is a miss, never wrong pixels.
import * as zlib from 'node:zlib';
import type { ResizeFit } from '../decode-image';

/** Bumped when the decode pipeline or this layout changes: older records are then misses. */
export const RECORD_MAGIC = 'HSD1';
export const HEADER_BYTES = 48;

const FITS: readonly ResizeFit[] = ['fill', 'cover'];

/** What a record holds: pixels of the file with this content, resized to size × size by fit. */
export interface RecordKey {
  /** sha256 of the source file's bytes, hex. */
  sha256: string;
  size: number;
  fit: ResizeFit;
}

export function keyString(k: RecordKey): string {
  return `${k.sha256}/${k.size}/${k.fit}`;
}

export function encodeRecord(k: RecordKey, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + data.length);
  out.write(RECORD_MAGIC, 0, 'latin1');
  out.write(k.sha256, 4, 32, 'hex');
  out.writeUInt16LE(k.size, 36);
  out.writeUInt8(FITS.indexOf(k.fit), 38);
  out.writeUInt8(0, 39);
  out.writeUInt32LE(data.length, 40);
  out.writeUInt32LE(zlib.crc32(data), 44);
  data.copy(out, HEADER_BYTES);
  return out;
}

/** The pixels of `record` when it is intact and holds `k` with `length` bytes; otherwise undefined. */
export function decodeRecord(record: Buffer, k: RecordKey, length: number): Buffer | undefined {
  if (record.length !== HEADER_BYTES + length) return undefined;
  if (record.toString('latin1', 0, 4) !== RECORD_MAGIC) return undefined;
  if (record.toString('hex', 4, 36) !== k.sha256) return undefined;
  if (record.readUInt16LE(36) !== k.size || record.readUInt8(38) !== FITS.indexOf(k.fit)) return undefined;
  if (record.readUInt32LE(40) !== length) return undefined;
  const data = record.subarray(HEADER_BYTES);
  return zlib.crc32(data) === record.readUInt32LE(44) ? data : undefined;
}
