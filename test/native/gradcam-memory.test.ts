// Grad-CAM leaves nothing behind: no hooks, graphs or tensors accumulate over 1,000 calls.
import { expect } from 'chai';

import { Model } from '../../src/native';
import { stripedBatch } from '../helpers/images';

describe('Grad-CAM memory', function () {
  this.timeout(300_000);

  it('stays flat over 1,000 calls', async () => {
    const model = await Model.create({ imageSize: 64, device: 'cpu' });
    try {
      const image = stripedBatch([1], 64);
      for (let i = 0; i < 50; i++) await model.gradcam(image); // warm-up: allocator pools, oneDNN caches
      const before = process.memoryUsage().rss;
      for (let i = 0; i < 1000; i++) await model.gradcam(image, { targetClass: i % 2 });
      const grownMiB = (process.memoryUsage().rss - before) / 2 ** 20;
      // One leaked layer4 activation per call would be 1000 x 2048 x 2 x 2 x 4 B = 32 MiB.
      expect(grownMiB).to.be.below(16);
    } finally {
      model.dispose();
    }
  });
});
