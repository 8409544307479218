// The cache key's first part: sha256 of a file's bytes as they are now, so a changed file is a
// miss even when a manifest's recorded hash is stale. Hashing runs in libuv's pool (WebCrypto),
// not on the event loop, and each file is hashed once per process while its stat is unchanged.
import * as fs from 'node:fs';
import { webcrypto } from 'node:crypto';

export interface HashedFile {
  sha256: string;
  /** The bytes that were hashed, when they were read now (decode these, not the file again). */
  bytes?: Buffer;
}

function stamp(st: fs.Stats): string {
  // ctime cannot be set back by a user, so an in-place rewrite always changes the stamp.
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export class ContentHasher {
  private readonly memo = new Map<string, { stamp: string; sha256: string }>();

  /** Throws the fs error when the file cannot be read. */
  async hash(file: string): Promise<HashedFile> {
    const st = await fs.promises.stat(file);
    const known = this.memo.get(file);
    if (known && known.stamp === stamp(st)) return { sha256: known.sha256 };
    const bytes = await fs.promises.readFile(file);
    const digest = await webcrypto.subtle.digest('SHA-256', bytes);
    const sha256 = Buffer.from(digest).toString('hex');
    // A file that changed between stat and read is hashed again next time.
    if (bytes.length === st.size) this.memo.set(file, { stamp: stamp(st), sha256 });
    return { sha256, bytes };
  }
}
