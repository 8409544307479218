import { expect } from 'chai';
import { areaUnderCurve, evaluatePredictions, PredictionRecord } from '../../src/eval';

// 8 images from 3 patients; at threshold 0.5:
//   p1 (malignant, DC): 0.9 ✓, 0.7 ✓, 0.4 ✗      p2 (benign, F): 0.2 ✓, 0.6 ✗, 0.1 ✓
//   p3 (malignant, LC): 0.8 ✓, 0.55 ✓
// → TP 4, FN 1, FP 1, TN 2.
const records: PredictionRecord[] = [
  { label: 1, probMalignant: 0.9, patient: 'p1', subtype: 'DC' },
  { label: 1, probMalignant: 0.7, patient: 'p1', subtype: 'DC' },
  { label: 1, probMalignant: 0.4, patient: 'p1', subtype: 'DC' },
  { label: 0, probMalignant: 0.2, patient: 'p2', subtype: 'F' },
  { label: 0, probMalignant: 0.6, patient: 'p2', subtype: 'F' },
  { label: 0, probMalignant: 0.1, patient: 'p2', subtype: 'F' },
  { label: 1, probMalignant: 0.8, patient: 'p3', subtype: 'LC' },
  { label: 1, probMalignant: 0.55, patient: 'p3' },
];

describe('eval: evaluatePredictions', () => {
  it('assembles every metric for a hand example', () => {
    const r = evaluatePredictions(records, { bootstrap: { resamples: 300, seed: 5 } });
    expect(r.threshold).to.equal(0.5);
    expect(r.counts).to.deep.equal({ images: 8, benign: 3, malignant: 5, patients: 3 });
    expect(r.confusionMatrix.matrix).to.deep.equal([
      [4, 1],
      [1, 2],
    ]);
    expect(r.metrics.accuracy).to.equal(6 / 8);
    // Malignant F1 = 8/10, benign F1 = 4/6; weighted = (5·0.8 + 3·2/3)/8 = 6/8.
    expect(r.metrics.weightedF1).to.be.closeTo(0.75, 1e-12);
    // Pairs malignant > benign: 0.4 and 0.55 beat only 0.2 and 0.1 (2 of 3 each; 0.6 is benign);
    // 0.9, 0.8, 0.7 beat all 3 → (3·3 + 2·2) / 15 = 13/15.
    expect(r.roc.auc).to.be.closeTo(13 / 15, 1e-12);
    expect(areaUnderCurve(r.roc.points)).to.be.closeTo(13 / 15, 1e-12);
    // Patients: p1 2/3, p2 2/3, p3 1 → 7/9.
    expect(r.patientLevel.recognitionRate).to.be.closeTo(7 / 9, 1e-12);
    expect(r.subtypes).to.deep.equal({
      F: { images: 3, correct: 2, accuracy: 2 / 3 },
      DC: { images: 3, correct: 2, accuracy: 2 / 3 },
      LC: { images: 1, correct: 1, accuracy: 1 },
    });
    expect(r.calibration.bins).to.have.length(15);
  });

  it('applies the given threshold', () => {
    const r = evaluatePredictions(records, { threshold: 0.65, bootstrap: { resamples: 100 } });
    // Malignant now needs >= 0.65: 0.9, 0.7, 0.8 → TP 3, FN 2, FP 0, TN 3.
    expect(r.confusionMatrix.matrix).to.deep.equal([
      [3, 2],
      [0, 3],
    ]);
    expect(r.metrics.specificity).to.equal(1);
  });

  it('is JSON-serialisable without loss', () => {
    const r = evaluatePredictions(records, { bootstrap: { resamples: 100 } });
    expect(JSON.parse(JSON.stringify(r))).to.deep.equal(r);
  });

  it('leaves ROC-AUC null when only one class is present', () => {
    const r = evaluatePredictions(records.filter((x) => x.label === 1), { bootstrap: { resamples: 50 } });
    expect(r.roc).to.deep.equal({ auc: null, points: [] });
    expect(r.metrics.sensitivity).to.equal(0.8);
    expect(JSON.parse(JSON.stringify(r))).to.deep.equal(r);
  });

  it('rejects invalid input with clear errors', () => {
    const ok = records[0];
    expect(() => evaluatePredictions([])).to.throw(/at least one prediction record/);
    expect(() => evaluatePredictions([{ ...ok, probMalignant: 1.2 }])).to.throw(/\[0, 1\] for records\[0\]\.probMalignant but received 1.2/);
    expect(() => evaluatePredictions([ok, { ...ok, probMalignant: Number.NaN }])).to.throw(/records\[1\]\.probMalignant but received NaN/);
    expect(() => evaluatePredictions([{ ...ok, label: 2 as 0 }])).to.throw(/0 \(benign\) or 1 \(malignant\) for records\[0\]\.label/);
    expect(() => evaluatePredictions([{ ...ok, patient: '' }])).to.throw(/non-empty string for records\[0\]\.patient/);
    expect(() => evaluatePredictions([{ ...ok, subtype: 'XX' }])).to.throw(/one of A, F, PT, TA, DC, LC, MC, PC/);
    expect(() => evaluatePredictions([{ ...ok, subtype: 'F' }])).to.throw(/label 0 for records\[0\] of subtype F/);
    expect(() => evaluatePredictions(records, { threshold: -0.1 })).to.throw(/\[0, 1\] for threshold/);
  });
});
