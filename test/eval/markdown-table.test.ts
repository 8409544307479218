import { expect } from 'chai';
import { formatMarkdownTable, formatSweepTable, TableColumn } from '../../src/eval';

describe('eval: markdown tables', () => {
  it('pads columns, aligns, formats numbers and escapes pipes', () => {
    type Row = { name: string; score: number | null };
    const columns: TableColumn<Row>[] = [
      { header: 'Name', value: (r) => r.name },
      { header: 'Score', value: (r) => r.score, align: 'right', digits: 2 },
    ];
    const table = formatMarkdownTable(columns, [
      { name: 'a|b', score: 0.987 },
      { name: 'c', score: null },
    ]);
    expect(table).to.equal(
      ['| Name | Score |', '| ---- | ----: |', '| a\\|b |  0.99 |', '| c    |     — |', ''].join('\n'),
    );
  });

  it('formats the study sweep table', () => {
    const table = formatSweepTable([
      {
        magnification: '40X',
        batchSize: 32,
        imagesPerClass: 500,
        bestEpoch: 13,
        valAccuracy: 0.91234,
        valWeightedF1: 0.9,
        testAccuracy: 0.88,
        testWeightedF1: 0.871,
        benignRecall: 0.8,
        malignantRecall: 0.9349,
      },
    ]);
    const lines = table.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^\| Magnification \| Batch \| Images\/class \| Best epoch \| Val acc \| Val F1 \| Test acc \| Test F1 \| Benign recall \| Malignant recall \|$/);
    expect(lines[2].split('|').map((c) => c.trim()).filter((c) => c !== '')).to.deep.equal([
      '40X', '32', '500', '13', '0.912', '0.900', '0.880', '0.871', '0.800', '0.935',
    ]);
  });

  it('requires at least one column', () => {
    expect(() => formatMarkdownTable([], [])).to.throw(/at least one column/);
  });
});
