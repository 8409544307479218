import { expect } from 'chai';
import { areaUnderCurve, ClassLabel, rocAuc, rocCurve } from '../../src/eval';
import { mulberry32 } from '../../src/util/prng';

/** Mann–Whitney by brute force over all (malignant, benign) pairs, ties counting 1/2. */
function pairwiseAuc(labels: readonly ClassLabel[], probs: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  labels.forEach((li, i) =>
    labels.forEach((lj, j) => {
      if (li !== 1 || lj !== 0) return;
      pairs++;
      if (probs[i] > probs[j]) wins += 1;
      else if (probs[i] === probs[j]) wins += 0.5;
    }),
  );
  return wins / pairs;
}

describe('eval: ROC', () => {
  it('gives half credit to tied scores: AUC 0.75 on a hand example', () => {
    // Malignant scores {0.5, 0.5}, benign {0.5, 0.1}. Pairs: (0.5 vs 0.5) ½, (0.5 vs 0.1) 1,
    // twice over → (½ + 1 + ½ + 1) / 4 = 0.75.
    const labels: ClassLabel[] = [1, 1, 0, 0];
    const probs = [0.5, 0.5, 0.5, 0.1];
    expect(rocAuc(labels, probs)).to.equal(0.75);
    // The tie group is one diagonal step: (0,0) → (0.5,1) → (1,1); trapezoids give 0.25 + 0.5.
    const points = rocCurve(labels, probs);
    expect(points).to.deep.equal([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0.5, tpr: 1, threshold: 0.5 },
      { fpr: 1, tpr: 1, threshold: 0.1 },
    ]);
    expect(areaUnderCurve(points)).to.equal(0.75);
  });

  it('is 1 for perfect ranking, 0 for reversed, 0.5 for constant scores', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).to.equal(1);
    expect(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])).to.equal(0);
    expect(rocAuc([1, 0, 1, 0], [0.3, 0.3, 0.3, 0.3])).to.equal(0.5);
  });

  it('equals brute-force Mann–Whitney and the curve area on random data with many ties', () => {
    const rng = mulberry32(42);
    for (let trial = 0; trial < 20; trial++) {
      const n = 30 + trial * 7;
      const labels: ClassLabel[] = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
      // Scores rounded to 0.1 so ties are frequent, shifted up for malignant.
      const probs = labels.map((l) => Math.round(Math.min(1, rng() * 0.8 + l * 0.2) * 10) / 10);
      const expected = pairwiseAuc(labels, probs);
      expect(rocAuc(labels, probs)).to.be.closeTo(expected, 1e-12);
      expect(areaUnderCurve(rocCurve(labels, probs))).to.be.closeTo(expected, 1e-12);
    }
  });

  it('produces a monotone curve from (0,0) to (1,1) with descending thresholds', () => {
    const points = rocCurve([0, 1, 0, 1, 1, 0], [0.2, 0.9, 0.6, 0.6, 0.4, 0.05]);
    expect(points[0]).to.deep.equal({ fpr: 0, tpr: 0, threshold: null });
    expect(points[points.length - 1]).to.include({ fpr: 1, tpr: 1 });
    for (let k = 1; k < points.length; k++) {
      expect(points[k].fpr).to.be.at.least(points[k - 1].fpr);
      expect(points[k].tpr).to.be.at.least(points[k - 1].tpr);
      if (k > 1) expect(points[k].threshold!).to.be.below(points[k - 1].threshold!);
    }
  });

  it('rejects single-class input and invalid probabilities', () => {
    expect(() => rocAuc([1, 1], [0.2, 0.3])).to.throw(/both benign and malignant/);
    expect(() => rocCurve([0, 0], [0.2, 0.3])).to.throw(/both benign and malignant/);
    expect(() => rocAuc([0, 1], [0.2, Number.NaN])).to.throw(/\[0, 1\] for probabilities\[1\]/);
    expect(() => rocAuc([0, 1], [0.2])).to.throw(/as many probabilities as labels/);
  });
});
