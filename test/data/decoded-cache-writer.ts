// A second process for the decoded-cache tests: warms the cache folder argv[2] from the image
// folder argv[3] at argv[4] px, small shards so that it rolls over several, then exits.
import { DecodedCache, warmDecodedCache } from '../../src/data';

async function main(): Promise<void> {
  const [dir, source, size] = process.argv.slice(2);
  const cache = new DecodedCache({ dir, shardBytes: 4096, flushMs: 5 });
  const r = await warmDecodedCache(source, { cache, size: Number(size), concurrency: 3 });
  await cache.close();
  process.stdout.write(JSON.stringify({ misses: r.misses, hits: r.hits, failed: r.failed.length }) + '\n');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
});
