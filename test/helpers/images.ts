// Small deterministic RGB images for tests: class 0 dark on the left, class 1 dark on the right,
// with noise, so a classifier has something real to learn.
import type { ImageBatch } from '../../src/native';

export function stripedBatch(labels: readonly number[], size: number, seed = 1): ImageBatch {
  const data = new Uint8Array(labels.length * size * size * 3);
  let state = seed >>> 0;
  labels.forEach((label, n) => {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        const dark = label === 0 ? x < size / 2 : x >= size / 2;
        const value = (dark ? 60 : 200) + (state >>> 28);
        const offset = ((n * size + y) * size + x) * 3;
        data[offset] = value;
        data[offset + 1] = value;
        data[offset + 2] = value;
      }
    }
  });
  return { data, shape: [labels.length, size, size, 3] };
}
