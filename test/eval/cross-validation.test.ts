import { expect } from 'chai';
import { evaluatePredictions, formatMeanStd, PredictionRecord, sampleStd, summariseFolds } from '../../src/eval';

describe('eval: cross-validation summary', () => {
  it('gives mean and sample std of every numeric leaf', () => {
    const folds = [
      { a: 1, b: { c: 2 }, curve: [1, 2, 3], name: 'x' },
      { a: 3, b: { c: 2 }, curve: [4] },
      { a: 5, b: { c: 5 }, missing: null },
    ];
    const s = summariseFolds(folds);
    expect(s.folds).to.equal(3);
    // a: 1, 3, 5 → mean 3, variance (4 + 0 + 4) / 2 = 4 → std 2.
    expect(s.metrics.a).to.deep.equal({ mean: 3, std: 2, values: [1, 3, 5] });
    // b.c: 2, 2, 5 → mean 3, variance (1 + 1 + 4) / 2 = 3.
    expect(s.metrics['b.c'].mean).to.equal(3);
    expect(s.metrics['b.c'].std).to.be.closeTo(Math.sqrt(3), 1e-12);
    expect(Object.keys(s.metrics).sort()).to.deep.equal(['a', 'b.c']);
    expect(formatMeanStd(s.metrics.a)).to.equal('3.000 ± 2.000');
  });

  it('leaves std undefined for a single fold', () => {
    expect(sampleStd([0.9])).to.equal(null);
    const s = summariseFolds([{ acc: 0.9 }]);
    expect(s.metrics.acc.std).to.equal(null);
    expect(formatMeanStd(s.metrics.acc, 2)).to.equal('0.90');
    expect(() => summariseFolds([])).to.throw(/at least one fold/);
  });

  it('summarises evaluation reports across folds', () => {
    const fold = (shift: number): PredictionRecord[] => [
      { label: 1, probMalignant: 0.9 - shift, patient: 'a' },
      { label: 1, probMalignant: 0.6 - shift, patient: 'b' },
      { label: 0, probMalignant: 0.3 + shift, patient: 'c' },
      { label: 0, probMalignant: 0.45 + shift, patient: 'd' },
    ];
    const reports = [0, 0.15].map((s) => evaluatePredictions(fold(s), { bootstrap: { resamples: 50 } }));
    const summary = summariseFolds(reports);
    // Fold 1 is perfect; fold 2 calls 0.45 (malignant) benign and 0.6 (benign) malignant → 0.5.
    expect(summary.metrics['metrics.accuracy'].mean).to.be.closeTo(0.75, 1e-12);
    expect(summary.metrics['metrics.accuracy'].std).to.be.closeTo(Math.SQRT1_2 / 2, 1e-12);
    expect(summary.metrics).to.have.property('patientLevel.recognitionRate');
    expect(summary.metrics).to.have.property('roc.auc');
  });
});
