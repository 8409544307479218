// Cross-checks against scikit-learn when /usr/bin/python3 can import it; otherwise the test is
// reported as pending (skipped) so the missing reference is visible in the test output.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { applyThreshold, classificationMetrics, ClassLabel, confusionMatrix, rocAuc } from '../../src/eval';
import { mulberry32 } from '../../src/util/prng';

const PYTHON = '/usr/bin/python3';

function sklearnAvailable(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' });
  return r.status === 0;
}

describe('eval: scikit-learn reference (skipped when sklearn is not importable)', () => {
  it('matches f1_score(weighted/macro), balanced_accuracy_score and roc_auc_score', function () {
    if (!sklearnAvailable()) {
      console.log(`      (skipped: ${PYTHON} cannot import sklearn)`);
      this.skip();
    }
    const rng = mulberry32(2024);
    const labels: ClassLabel[] = Array.from({ length: 300 }, () => (rng() < 0.65 ? 1 : 0));
    const probs = labels.map((l) => Math.round(Math.min(1, Math.max(0, 0.35 + 0.3 * l + (rng() - 0.5) * 0.7)) * 20) / 20);
    const predicted = applyThreshold(probs, 0.5);
    const script = [
      'import json, sys',
      'from sklearn.metrics import f1_score, balanced_accuracy_score, roc_auc_score',
      'd = json.load(sys.stdin)',
      'y, p, s = d["y"], d["p"], d["s"]',
      'print(json.dumps({"weighted": f1_score(y, p, average="weighted"), "macro": f1_score(y, p, average="macro"),',
      '  "balanced": balanced_accuracy_score(y, p), "auc": roc_auc_score(y, s)}))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify({ y: labels, p: predicted, s: probs }), encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const ref = JSON.parse(r.stdout) as { weighted: number; macro: number; balanced: number; auc: number };
    const m = classificationMetrics(confusionMatrix(labels, predicted));
    expect(m.weightedF1).to.be.closeTo(ref.weighted, 1e-12);
    expect(m.macroF1).to.be.closeTo(ref.macro, 1e-12);
    expect(m.balancedAccuracy).to.be.closeTo(ref.balanced, 1e-12);
    expect(rocAuc(labels, probs)).to.be.closeTo(ref.auc, 1e-12);
  });
});
