import { expect } from 'chai';
import {
  bootstrapPercentileCi, ClassLabel, describeInterval, normalQuantile, PATIENT_BOOTSTRAP_MIN, patientLevelRecognition, PatientPrediction,
  quantileSorted, wilsonInterval,
} from '../../src/eval';
import { mulberry32, randInt, shuffle } from '../../src/util/prng';

function predictions(rows: [string, ClassLabel, ClassLabel][]): PatientPrediction[] {
  return rows.map(([patient, label, predicted]) => ({ patient, label, predicted }));
}

describe('eval: patient-level recognition rate', () => {
  // Patient A: 2 of 3 images right (2/3); B: 1 of 1 (1); C: 0 of 2 (0).
  // Recognition rate = (2/3 + 1 + 0) / 3 = 5/9 ≈ 0.556, whereas image accuracy is 3/6 = 0.5.
  const handExample = predictions([
    ['A', 1, 1],
    ['A', 1, 1],
    ['A', 1, 0],
    ['B', 0, 0],
    ['C', 0, 1],
    ['C', 0, 1],
  ]);

  it('averages per-patient rates on a hand example', () => {
    const result = patientLevelRecognition(handExample, { resamples: 500, seed: 1 });
    expect(result.recognitionRate).to.be.closeTo(5 / 9, 1e-12);
    expect(result.patients).to.deep.equal([
      { patient: 'A', images: 3, correct: 2, rate: 2 / 3 },
      { patient: 'B', images: 1, correct: 1, rate: 1 },
      { patient: 'C', images: 2, correct: 0, rate: 0 },
    ]);
  });

  it('gives a bootstrap interval from PATIENT_BOOTSTRAP_MIN patients on, containing the estimate and deterministic for a seed', () => {
    const rng = mulberry32(7);
    const rows: [string, ClassLabel, ClassLabel][] = [];
    for (let p = 0; p < PATIENT_BOOTSTRAP_MIN + 10; p++) {
      const skill = 0.5 + 0.5 * rng();
      for (let i = 0; i < 4 + randInt(rng, 10); i++) rows.push([`P${p}`, 1, rng() < skill ? 1 : 0]);
    }
    const a = patientLevelRecognition(predictions(rows), { seed: 123 });
    const b = patientLevelRecognition(predictions(rows), { seed: 123 });
    const c = patientLevelRecognition(predictions(rows), { seed: 124 });
    expect(a.confidenceInterval).to.deep.equal(b.confidenceInterval);
    expect(a.confidenceInterval).to.not.deep.equal(c.confidenceInterval);
    expect(a.confidenceInterval.lower).to.be.below(a.recognitionRate);
    expect(a.confidenceInterval.upper).to.be.above(a.recognitionRate);
    expect(a.confidenceInterval).to.include({ level: 0.95, resamples: 2000, seed: 123, method: 'percentile-bootstrap' });
  });

  it('uses Wilson on patients below PATIENT_BOOTSTRAP_MIN, which does not collapse where a bootstrap would', () => {
    // Two patients with the same rate: every bootstrap resample gives 0.5, an interval of width 0.
    const same = predictions([
      ['A', 1, 1],
      ['A', 1, 0],
      ['B', 0, 0],
      ['B', 0, 1],
    ]);
    const { recognitionRate, confidenceInterval } = patientLevelRecognition(same, { resamples: 200 });
    expect(recognitionRate).to.equal(0.5);
    expect(confidenceInterval).to.include({ method: 'wilson', trials: 2, successes: 1 });
    expect(confidenceInterval.lower).to.be.closeTo(0.0945, 1e-4);
    expect(confidenceInterval.upper).to.be.closeTo(0.9055, 1e-4);
    expect(describeInterval(confidenceInterval, 2)).to.match(/95% Wilson score interval over 2 patients \(fewer than 30/);
  });

  it('gives 4 of 4 correct patients an honest interval, not 100–100%', () => {
    const allRight = predictions([['A', 1, 1], ['B', 1, 1], ['C', 0, 0], ['D', 0, 0]]);
    const ci = patientLevelRecognition(allRight).confidenceInterval;
    // Wilson at p = 1: lower = n / (n + z^2) = 4 / (4 + 1.959964^2).
    expect(ci.lower).to.be.closeTo(4 / (4 + 1.959964 ** 2), 1e-6);
    expect(ci.upper).to.equal(1);
    const bootstrap = bootstrapPercentileCi([1, 1, 1, 1], (s) => s.reduce((a, b) => a + b) / s.length);
    expect([bootstrap.lower, bootstrap.upper]).to.deep.equal([1, 1]);
  });

  it('rejects empty input and bad bootstrap options', () => {
    expect(() => patientLevelRecognition([])).to.throw(/at least one prediction/);
    expect(() => bootstrapPercentileCi([1], (s) => s[0], { resamples: 0 })).to.throw(/positive integer for resamples/);
    expect(() => bootstrapPercentileCi([1], (s) => s[0], { level: 1 })).to.throw(/\(0, 1\) for level/);
  });
});

describe('eval: Wilson score interval', () => {
  it('matches published values', () => {
    // 3 of 4: 0.3006–0.9544 (Wilson 1927; e.g. R's binom::binom.wilson(3, 4) and statsmodels' proportion_confint(3, 4, method='wilson')).
    const three = wilsonInterval(3, 4);
    expect(three.lower).to.be.closeTo(0.30064, 1e-5);
    expect(three.upper).to.be.closeTo(0.95441, 1e-5);
    // 0 of 10: 0–0.2775; 5 of 10 at 90%: 0.2693–0.7307.
    expect(wilsonInterval(0, 10).lower).to.equal(0);
    expect(wilsonInterval(0, 10).upper).to.be.closeTo(0.27753, 1e-5);
    expect(wilsonInterval(5, 10, 0.9).lower).to.be.closeTo(0.26927, 1e-5);
    expect(wilsonInterval(5, 10, 0.9).upper).to.be.closeTo(0.73073, 1e-5);
  });

  it('has the normal quantiles of common levels', () => {
    expect(normalQuantile(0.975)).to.be.closeTo(1.959964, 1e-6);
    expect(normalQuantile(0.95)).to.be.closeTo(1.644854, 1e-6);
    expect(normalQuantile(0.005)).to.be.closeTo(-2.575829, 1e-6);
  });

  it('names bad arguments', () => {
    expect(() => wilsonInterval(5, 4)).to.throw(/Expected number between 0 and 4 for successes but received 5/);
    expect(() => wilsonInterval(0, 0)).to.throw(/positive integer for trials/);
  });
});

describe('eval: bootstrap helpers and seeded PRNG', () => {
  it('interpolates quantiles like numpy (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).to.equal(1.75);
    expect(quantileSorted([1, 2, 3, 4], 1)).to.equal(4);
  });

  it('matches the reference mulberry32 sequence and shuffles reproducibly', () => {
    // First output of the widely published mulberry32 for seed 1.
    expect(mulberry32(1)()).to.be.closeTo(0.6270739405881613, 1e-15);
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const s1 = shuffle(mulberry32(9), items);
    expect(s1).to.deep.equal(shuffle(mulberry32(9), items));
    expect([...s1].sort()).to.deep.equal(items);
    expect(items).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
