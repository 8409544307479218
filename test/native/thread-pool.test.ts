// Native calls wait for the compute thread without holding a libuv pool thread, so image decodes
// (sharp runs each one on that pool) go on while tensor work is queued. Under the previous design
// (one AsyncWorker per call) 12 queued calls filled the 4-thread pool and every decode waited
// until 8 of them had finished.
import { expect } from 'chai';
import sharp from 'sharp';

import { Model } from '../../src/native';
import { stripedBatch } from '../helpers/images';

describe('native calls and the libuv pool', function () {
  this.timeout(300_000);

  it('lets 8 concurrent sharp decodes finish while 12 long native calls are queued', async () => {
    const model = await Model.create({ device: 'cpu', imageSize: 224 });
    try {
      const png = await sharp({ create: { width: 700, height: 460, channels: 3, background: '#b06090' } }).png().toBuffer();
      const batch = stripedBatch([0, 1, 0, 1], 224);
      await model.predict(batch); // warm-up
      const finished: string[] = [];
      const calls = Array.from({ length: 12 }, (_, i) => model.predict(batch).then(() => { finished.push(`native${i}`); }));
      const decodes = Array.from({ length: 8 }, (_, i) =>
        sharp(png).resize(224, 224, { fit: 'fill' }).raw().toBuffer().then(() => { finished.push(`decode${i}`); }));
      await Promise.all([...calls, ...decodes]);
      const nativesBeforeLastDecode = finished.slice(0, finished.indexOf('decode7') + 1).filter((f) => f.startsWith('native')).length;
      expect(finished.filter((f) => f.startsWith('decode'))).to.have.length(8);
      expect(nativesBeforeLastDecode, finished.join(' ')).to.be.below(6);
    } finally {
      model.dispose();
    }
  });
});
