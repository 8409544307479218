import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import {
  calibration,
  confusionMatrixFromCounts,
  EpochRecord,
  renderAccuracyCurvesSvg,
  renderConfusionMatrixSvg,
  renderLossCurvesSvg,
  renderReliabilityDiagramSvg,
  renderRocCurveSvg,
  renderTrainingCurveSvg,
  rocAuc,
  rocCurve,
  writePlot,
} from '../../src/eval';
import { assertWellFormedSvg } from './svg-wellformed';

function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="(\d+)"[^>]*\sheight="(\d+)"/.exec(svg);
  if (!m) throw new Error('SVG has no width/height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

const epochs: EpochRecord[] = [1, 2, 3, 4].map((epoch) => ({
  epoch,
  trainLoss: 0.7 / epoch,
  valLoss: 0.75 / epoch + (epoch === 4 ? 0.1 : 0),
  trainAccuracy: 0.6 + 0.08 * epoch,
  valAccuracy: [0.62, 0.7, 0.81, 0.79][epoch - 1],
  trainWeightedF1: 0.58 + 0.08 * epoch,
  valWeightedF1: [0.6, 0.69, 0.8, 0.78][epoch - 1],
}));

describe('eval: plots', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'histoscope-plots-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('draws training curves with axes, legend and the best epoch', () => {
    const acc = renderAccuracyCurvesSvg(epochs, 3);
    assertWellFormedSvg(acc);
    for (const label of ['Training and validation accuracy', '>Epoch<', '>Accuracy<', '>Train<', '>Validation<', 'Best epoch (3)']) {
      expect(acc).to.contain(label);
    }
    const loss = renderLossCurvesSvg(epochs, 3);
    assertWellFormedSvg(loss);
    expect(loss).to.contain('>Loss<');
    const f1 = renderTrainingCurveSvg(epochs, { quantity: 'weightedF1', title: 'F1 <&> test' });
    assertWellFormedSvg(f1);
    expect(f1).to.contain('F1 &lt;&amp;&gt; test').and.not.contain('Best epoch');
    // Epoch ticks are whole numbers even for a short run.
    expect(acc).to.not.match(/>\d+\.5</);
  });

  it('rejects bad training-curve input', () => {
    expect(() => renderAccuracyCurvesSvg([], 1)).to.throw(/at least one epoch/);
    expect(() => renderAccuracyCurvesSvg(epochs, 9)).to.throw(/bestEpoch to be one of the plotted epochs/);
    expect(() => renderLossCurvesSvg([{ ...epochs[0], valLoss: Number.NaN }])).to.throw(/epochs\[0\]\.valLoss/);
  });

  it('draws the confusion matrix with counts, row percentages and class names', () => {
    const svg = renderConfusionMatrixSvg(confusionMatrixFromCounts({ tp: 203, fn: 63, fp: 37, tn: 97 }));
    assertWellFormedSvg(svg);
    // Row percentages: 203/266 = 76.3%, 63/266 = 23.7%, 37/134 = 27.6%, 97/134 = 72.4%.
    for (const label of ['>203<', '>63<', '>37<', '>97<', '76.3%', '23.7%', '27.6%', '72.4%', '>Malignant<', '>Benign<', 'Predicted class', 'True class']) {
      expect(svg).to.contain(label);
    }
    // Cells shade by row percentage: the 76.3% cell is darker than the 23.7% one.
    const fills = [...svg.matchAll(/width="150" height="150" fill="rgb\((\d+),(\d+),(\d+)\)"/g)].map((m) => Number(m[1]));
    expect(fills).to.have.length(4);
    expect(fills[0]).to.be.below(fills[1]);
  });

  it('draws the ROC curve with AUC in the legend and the chance diagonal', () => {
    const labels = [1, 1, 0, 0] as const;
    const probs = [0.5, 0.5, 0.5, 0.1];
    const svg = renderRocCurveSvg(
      { points: rocCurve(labels, probs), auc: rocAuc(labels, probs) },
      { operatingPoint: { fpr: 0.5, tpr: 1, threshold: 0.5 } },
    );
    assertWellFormedSvg(svg);
    expect(svg).to.contain('ROC (AUC = 0.750)').and.contain('Chance').and.contain('Threshold 0.500');
    expect(svg).to.contain('stroke-dasharray'); // the diagonal
    expect(() => renderRocCurveSvg({ points: [], auc: null })).to.throw(/at least two ROC points/);
  });

  it('draws a reliability diagram with the ECE', () => {
    const svg = renderReliabilityDiagramSvg(calibration([1, 0, 0, 0], [0.9, 0.92, 0.3, 0.6]));
    assertWellFormedSvg(svg);
    expect(svg).to.contain('ECE = 0.430').and.contain('Perfect calibration');
    // The legend's gap swatch is drawn as the gap bars are: same colour, opacity and outline.
    const styleOf = (rect: string): string => (rect.match(/ fill=.*?(?=\/>)/) ?? [''])[0];
    const rects = svg.match(/<rect [^>]*fill-opacity="0\.35"[^>]*\/>/g) ?? [];
    const swatch = rects.find((r) => /width="12" height="12"/.test(r));
    const bars = rects.filter((r) => r !== swatch);
    expect(swatch, 'legend swatch of the gap').to.be.a('string');
    expect(bars.length).to.be.greaterThan(0);
    for (const bar of bars) expect(styleOf(bar)).to.equal(styleOf(swatch!));
  });

  it('writes SVG and PNG files whose PNG decodes to the scaled size', async () => {
    const svg = renderConfusionMatrixSvg(confusionMatrixFromCounts({ tp: 5, fn: 1, fp: 2, tn: 7 }));
    const size = svgSize(svg);
    const base = path.join(dir, 'nested', 'cm');
    const written = await writePlot(svg, base);
    expect(written).to.deep.equal({ svg: `${base}.svg`, png: `${base}.png` });
    expect(fs.readFileSync(written.svg, 'utf8')).to.equal(svg);
    const meta = await sharp(written.png).metadata();
    expect(meta.format).to.equal('png');
    expect({ width: meta.width, height: meta.height }).to.deep.equal({ width: size.width * 2, height: size.height * 2 });

    const roc = renderRocCurveSvg({ points: rocCurve([0, 1], [0.2, 0.8]), auc: 1 });
    const one = await writePlot(roc, path.join(dir, 'roc'), { scale: 1 });
    const rocMeta = await sharp(one.png).metadata();
    expect({ width: rocMeta.width, height: rocMeta.height }).to.deep.equal(svgSize(roc));
    // Not blank: the rendered plot has dark ink (text, axes) on its white background.
    const stats = await sharp(one.png).stats();
    expect(stats.channels[0].min).to.be.below(100);
    expect(stats.channels[0].max).to.equal(255);
    // No temporary files left behind.
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['nested', 'roc.png', 'roc.svg']);
  });
});
