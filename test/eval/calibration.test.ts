import { expect } from 'chai';
import { calibration, ClassLabel, expectedCalibrationError } from '../../src/eval';

describe('eval: expected calibration error', () => {
  // Confidence = probability of the predicted class; 15 bins (k/15, (k+1)/15].
  //   a: p=0.90, y=1 → predicted 1, confidence 0.90, correct → bin 13 (0.867, 0.933]
  //   b: p=0.92, y=0 → predicted 1, confidence 0.92, wrong   → bin 13
  //   c: p=0.30, y=0 → predicted 0, confidence 0.70, correct → bin 10 (0.667, 0.733]
  //   d: p=0.60, y=0 → predicted 1, confidence 0.60, wrong   → bin 8 (0.533, 0.6], on its upper edge
  // ECE = 2/4·|0.5 − 0.91| + 1/4·|1 − 0.7| + 1/4·|0 − 0.6| = 0.205 + 0.075 + 0.15 = 0.43
  const labels: ClassLabel[] = [1, 0, 0, 0];
  const probs = [0.9, 0.92, 0.3, 0.6];

  it('matches the hand-computed value', () => {
    expect(expectedCalibrationError(labels, probs)).to.be.closeTo(0.43, 1e-12);
  });

  it('reports the reliability bins', () => {
    const { bins } = calibration(labels, probs);
    expect(bins).to.have.length(15);
    expect(bins.map((b) => b.count)).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 0]);
    expect(bins[13].accuracy).to.equal(0.5);
    expect(bins[13].meanConfidence).to.be.closeTo(0.91, 1e-12);
    expect(bins[8]).to.deep.include({ count: 1, accuracy: 0, meanConfidence: 0.6 });
    expect(bins[0]).to.deep.include({ count: 0, accuracy: null, meanConfidence: null });
    expect(bins[14].upper).to.equal(1);
  });

  it('is 0 for a perfectly calibrated toy case and respects the bin count', () => {
    // Confidence 0.75 in one bin with 3 of 4 correct: no gap.
    expect(expectedCalibrationError([1, 1, 1, 0], [0.75, 0.75, 0.75, 0.75])).to.be.closeTo(0, 1e-12);
    expect(calibration(labels, probs, 10).bins).to.have.length(10);
    expect(() => calibration(labels, probs, 0)).to.throw(/positive integer for binCount/);
  });
});
