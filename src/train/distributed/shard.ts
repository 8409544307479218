// How a global batch, or a whole split, is divided among ranks: strided, as PyTorch's
// DistributedSampler does (rank r takes positions r, r + W, r + 2W, ...). A global batch's shards
// together are exactly that batch, so W ranks x (B / W) take the step one process takes on B.
// Nothing is padded or dropped: when the last global batch is short, ranks get one image fewer
// or none (and still take part in the step), so every image is seen exactly once per epoch,
// whatever the world size.

/** Rank `rank`'s share of `items` (positions rank, rank + W, ...). */
export function strided<T>(items: readonly T[], rank: number, worldSize: number): T[] {
  const out: T[] = [];
  for (let i = rank; i < items.length; i += worldSize) out.push(items[i]);
  return out;
}

/** Undoes `strided`: each rank's share, in rank order, back into one list in the original order. */
export function interleave<T>(shares: readonly (readonly T[])[]): T[] {
  const total = shares.reduce((n, s) => n + s.length, 0);
  const out: T[] = new Array<T>(total);
  shares.forEach((share, rank) => share.forEach((item, k) => { out[k * shares.length + rank] = item; }));
  return out;
}
