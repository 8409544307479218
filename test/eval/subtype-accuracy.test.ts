import { expect } from 'chai';
import { subtypeAccuracy } from '../../src/eval';

describe('eval: per-subtype accuracy', () => {
  it('counts each subtype in study order and skips records without one', () => {
    const result = subtypeAccuracy([
      { subtype: 'PC', label: 1, predicted: 1 },
      { subtype: 'A', label: 0, predicted: 1 },
      { subtype: 'A', label: 0, predicted: 0 },
      { subtype: 'PC', label: 1, predicted: 0 },
      { subtype: 'PC', label: 1, predicted: 1 },
      { label: 1, predicted: 0 },
    ]);
    expect(Object.keys(result)).to.deep.equal(['A', 'PC']);
    expect(result.A).to.deep.equal({ images: 2, correct: 1, accuracy: 0.5 });
    expect(result.PC).to.deep.equal({ images: 3, correct: 2, accuracy: 2 / 3 });
  });

  it('rejects unknown codes', () => {
    expect(() => subtypeAccuracy([{ subtype: 'ZZ', label: 0, predicted: 0 }])).to.throw(/one of A, F, PT, TA/);
  });
});
