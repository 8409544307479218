// Grad-CAM leaves nothing behind: no hooks, graphs or tensors accumulate from call to call.
import { expect } from 'chai';

import { Model } from '../../src/native';
import { gc } from '../helpers/gc';
import { stripedBatch } from '../helpers/images';

const CALLS = 100;
const SIZE = 128;
// The smallest leak that matters: one layer4 activation kept per call, 2048 × 4 × 4 float32 at
// 128 px (128 KiB). At this size it stands well above the ~20 KB per call that the allocators'
// free lists settle into over the first few hundred calls, so 100 calls tell a leak from noise.
const ACTIVATION_BYTES = 2048 * (SIZE / 32) ** 2 * 4;

describe('Grad-CAM memory', function () {
  this.timeout(300_000);

  it(`stays flat over ${CALLS} calls: less than half an activation per call`, async () => {
    const model = await Model.create({ imageSize: SIZE, device: 'cpu' });
    try {
      const image = stripedBatch([1], SIZE);
      for (let i = 0; i < 20; i++) await model.gradcam(image); // warm-up: allocator pools, oneDNN caches
      gc(); // dead result arrays are not growth
      const before = process.memoryUsage().rss;
      for (let i = 0; i < CALLS; i++) await model.gradcam(image, { targetClass: i % 2 });
      gc();
      const perCall = (process.memoryUsage().rss - before) / CALLS;
      console.log(`      RSS growth ${(perCall / 1024).toFixed(1)} KiB per call after warm-up (one activation: ${ACTIVATION_BYTES / 1024} KiB)`);
      expect(perCall).to.be.below(ACTIVATION_BYTES / 2);
    } finally {
      model.dispose();
    }
  });
});
