// sha256 of a file, streamed: model and weights files are ~100 MB, too large to read whole.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
