import { expect } from 'chai';
import {
  accuracy,
  balancedAccuracy,
  classificationMetrics,
  confusionMatrix,
  confusionMatrixFromCounts,
  macroF1,
  perClassMetrics,
  sensitivity,
  specificity,
  weightedF1,
} from '../../src/eval';

describe('eval: confusion matrix', () => {
  it('lays out counts as [[TP, FN], [FP, TN]] with malignant first', () => {
    //            0  0  0  1  1  1  1
    const labels = [0, 0, 0, 1, 1, 1, 1] as const;
    const preds = [0, 1, 0, 1, 1, 0, 1] as const;
    const cm = confusionMatrix(labels, preds);
    expect(cm.matrix).to.deep.equal([
      [3, 1],
      [1, 2],
    ]);
    expect({ tp: cm.tp, fn: cm.fn, fp: cm.fp, tn: cm.tn }).to.deep.equal({ tp: 3, fn: 1, fp: 1, tn: 2 });
    expect({ total: cm.total, malignant: cm.malignant, benign: cm.benign }).to.deep.equal({ total: 7, malignant: 4, benign: 3 });
    expect(cm.classOrder).to.deep.equal(['malignant', 'benign']);
  });

  it('rejects mismatched lengths and invalid counts', () => {
    expect(() => confusionMatrix([0, 1], [0])).to.throw(/as many predictions as labels/);
    expect(() => confusionMatrixFromCounts({ tp: -1, fn: 0, fp: 0, tn: 0 })).to.throw(/non-negative integer for tp/);
    expect(() => confusionMatrixFromCounts({ tp: 1, fn: 0.5, fp: 0, tn: 0 })).to.throw(/non-negative integer for fn/);
  });
});

describe('eval: classification metrics', () => {
  // 10 images: 6 malignant, 4 benign. TP = 4, FN = 2, FP = 1, TN = 3.
  const cm = confusionMatrixFromCounts({ tp: 4, fn: 2, fp: 1, tn: 3 });

  it('computes per-class precision, recall, F1 and support by hand', () => {
    // Malignant: precision 4/5, recall 4/6, F1 = 2TP / (2TP + FP + FN) = 8 / 11.
    // Benign (benign as positive: TP' = TN = 3, FP' = FN = 2, FN' = FP = 1):
    //   precision 3/5, recall 3/4, F1 = 6 / (6 + 2 + 1) = 2/3.
    const pc = perClassMetrics(cm);
    expect(pc.malignant.precision).to.be.closeTo(4 / 5, 1e-12);
    expect(pc.malignant.recall).to.be.closeTo(4 / 6, 1e-12);
    expect(pc.malignant.f1).to.be.closeTo(8 / 11, 1e-12);
    expect(pc.malignant.support).to.equal(6);
    expect(pc.benign.precision).to.be.closeTo(3 / 5, 1e-12);
    expect(pc.benign.recall).to.be.closeTo(3 / 4, 1e-12);
    expect(pc.benign.f1).to.be.closeTo(2 / 3, 1e-12);
    expect(pc.benign.support).to.equal(4);
  });

  it('weights F1 by true class counts (sklearn average="weighted")', () => {
    // weighted F1 = (6 × 8/11 + 4 × 2/3) / 10
    //             = (48/11 + 8/3) / 10 = (144/33 + 88/33) / 10 = 232/330 ≈ 0.703030
    expect(weightedF1(cm)).to.be.closeTo(232 / 330, 1e-12);
    // macro F1 = (8/11 + 2/3) / 2 = (24/33 + 22/33) / 2 = 23/33 ≈ 0.696970
    expect(macroF1(cm)).to.be.closeTo(23 / 33, 1e-12);
  });

  it('computes accuracy, sensitivity, specificity and balanced accuracy', () => {
    expect(accuracy(cm)).to.be.closeTo(7 / 10, 1e-12);
    expect(sensitivity(cm)).to.be.closeTo(4 / 6, 1e-12);
    expect(specificity(cm)).to.be.closeTo(3 / 4, 1e-12);
    expect(balancedAccuracy(cm)).to.be.closeTo((4 / 6 + 3 / 4) / 2, 1e-12);
    const all = classificationMetrics(cm);
    expect(all.weightedF1).to.equal(weightedF1(cm));
    expect(all.sensitivity).to.equal(all.perClass.malignant.recall);
    expect(all.specificity).to.equal(all.perClass.benign.recall);
  });

  it('scores undefined ratios as 0 and skips absent classes like sklearn', () => {
    // Nothing predicted malignant: malignant precision is 0/0 → 0, its F1 0.
    const none = confusionMatrixFromCounts({ tp: 0, fn: 2, fp: 0, tn: 3 });
    expect(perClassMetrics(none).malignant).to.deep.equal({ precision: 0, recall: 0, f1: 0, support: 2 });
    // Benign F1 = 6 / (6 + 0 + 2) = 3/4; weighted = (3 × 3/4 + 2 × 0) / 5.
    expect(weightedF1(none)).to.be.closeTo(0.45, 1e-12);
    // Only benign images, all predicted benign: the malignant class appears nowhere.
    const onlyBenign = confusionMatrixFromCounts({ tp: 0, fn: 0, fp: 0, tn: 5 });
    expect(macroF1(onlyBenign)).to.equal(1);
    expect(balancedAccuracy(onlyBenign)).to.equal(1);
    expect(weightedF1(onlyBenign)).to.equal(1);
    expect(() => accuracy(confusionMatrixFromCounts({ tp: 0, fn: 0, fp: 0, tn: 0 }))).to.throw(/at least one image/);
  });
});
