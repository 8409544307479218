// The cache key's first part: sha256 of a file's bytes as they are now, so a changed file is a
// miss even when a manifest's recorded hash is stale. Hashing runs in libuv's pool (WebCrypto),
// not on the event loop. A file whose stat stamp (inode, size, mtime, ctime) is unchanged since it
// was hashed is not read again: the stamps come from this process or from the cache's indexes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { webcrypto } from 'node:crypto';

/**
 * A stamp is only trusted once the file has been left alone this long before it was read: a
 * rewrite within one coarse timestamp tick could otherwise keep the stamp (git's "racy" case).
 */
const SETTLED_NS = 2_000_000_000n;

export interface HashedFile {
  sha256: string;
  /** Identity of the file's current version (device, inode, size, mtime, ctime in ns). */
  stamp: string;
  /** The bytes that were hashed, when they were read now (decode these, not the file again). */
  bytes?: Buffer;
  /** Whether `stamp` may stand for `sha256` from now on (the file was not recently changed). */
  settled: boolean;
}

export class ContentHasher {
  private readonly known = new Map<string, { stamp: string; sha256: string }>();

  /** Records that `file` with `stamp` has `sha256` (from a cache index). */
  remember(file: string, stamp: string, sha256: string): void {
    this.known.set(file, { stamp, sha256 });
  }

  /** Throws the fs error when the file cannot be read. */
  async hash(file: string): Promise<HashedFile> {
    file = path.resolve(file);
    const readAt = BigInt(Date.now()) * 1_000_000n;
    const st = await fs.promises.stat(file, { bigint: true });
    const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const known = this.known.get(file);
    if (known && known.stamp === stamp) return { sha256: known.sha256, stamp, settled: true };
    const bytes = await fs.promises.readFile(file);
    const sha256 = Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
    // ctime changes with every write and cannot be set back. A file that changes between stat and
    // read leaves its old stamp paired with the new bytes: harmless, as that stamp cannot recur.
    const settled = BigInt(bytes.length) === st.size && st.ctimeNs < readAt - SETTLED_NS;
    if (settled) this.known.set(file, { stamp, sha256 });
    return { sha256, stamp, bytes, settled };
  }
}
