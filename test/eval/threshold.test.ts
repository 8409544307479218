import { expect } from 'chai';
import { applyThreshold, ClassLabel, selectThreshold } from '../../src/eval';

describe('eval: decision threshold', () => {
  it('calls prob >= threshold malignant', () => {
    expect(applyThreshold([0.1, 0.5, 0.49999, 1])).to.deep.equal([0, 1, 0, 1]);
    expect(applyThreshold([0.3, 0.35, 0.4], 0.35)).to.deep.equal([0, 1, 1]);
    expect(() => applyThreshold([0.3], 1.5)).to.throw(/\[0, 1\] for threshold/);
  });

  // probs (label): 0.1 (0), 0.2 (0), 0.35 (1), 0.4 (0), 0.6 (1), 0.7 (1), 0.9 (1)
  const labels: ClassLabel[] = [0, 0, 1, 0, 1, 1, 1];
  const probs = [0.1, 0.2, 0.35, 0.4, 0.6, 0.7, 0.9];

  it('maximises weighted F1 on a constructed case', () => {
    // t = 0.6 : TP 3, FN 1, FP 0, TN 3 → both classes F1 = 6/7 → weighted 6/7 ≈ 0.857
    // t = 0.35: TP 4, FN 0, FP 1, TN 2 → F1 8/9 and 4/5 → (4·8/9 + 3·4/5)/7 = 268/315 ≈ 0.851
    // t = 0.4 : TP 3, FN 1, FP 1, TN 2 → F1 3/4 and 2/3 → lower; the others are lower still.
    const s = selectThreshold(labels, probs, 'weightedF1');
    expect(s.threshold).to.equal(0.6);
    expect(s.score).to.be.closeTo(6 / 7, 1e-12);
    expect(s.candidates).to.equal(7);
    expect(s.criterion).to.equal('weightedF1');
  });

  it("maximises Youden's J on the same case", () => {
    // t = 0.6: J = 3/4 + 1 − 1 = 0.75; t = 0.35: J = 1 + 2/3 − 1 ≈ 0.667.
    const s = selectThreshold(labels, probs, 'youdenJ');
    expect(s.threshold).to.equal(0.6);
    expect(s.score).to.be.closeTo(0.75, 1e-12);
  });

  it('does not depend on input order', () => {
    const order = [4, 0, 6, 2, 5, 1, 3];
    const s = selectThreshold(order.map((i) => labels[i]), order.map((i) => probs[i]));
    expect(s.threshold).to.equal(0.6);
  });

  it('breaks ties towards 0.5, then towards the lower threshold', () => {
    // probs (label) 0.9 (1), 0.8 (0), 0.3 (1), 0.2 (0): J is 0.5 at both t = 0.9 and t = 0.3.
    expect(selectThreshold([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.2], 'youdenJ').threshold).to.equal(0.3);
    // 0.75 and 0.25 tie on J and are equally far from 0.5: the lower one wins.
    expect(selectThreshold([1, 0, 1, 0], [0.75, 0.6, 0.25, 0.1], 'youdenJ').threshold).to.equal(0.25);
  });

  it('treats tied probabilities as one candidate', () => {
    const s = selectThreshold([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.2]);
    expect(s.candidates).to.equal(2);
  });

  it('rejects invalid input', () => {
    expect(() => selectThreshold([], [])).to.throw(/at least one prediction/);
    expect(() => selectThreshold([0, 2 as ClassLabel], [0.1, 0.2])).to.throw(/0 \(benign\) or 1 \(malignant\) for labels\[1\]/);
  });
});
