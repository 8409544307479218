// Results tables as GitHub-flavoured markdown, e.g. the study's sweep table, so the numbers in a
// README trace to the run files they were formatted from.

export type Alignment = 'left' | 'right' | 'center';

export interface TableColumn<Row> {
  /** Header text. */
  header: string;
  /** Cell text for a row. */
  value: (row: Row) => string | number | null | undefined;
  /** Cell alignment; left when omitted. */
  align?: Alignment;
  /** Digits after the point for numeric cells; numbers are printed as-is when omitted. */
  digits?: number;
}

function escapeCell(text: string): string {
  // A raw pipe would split the cell, a newline would end the row.
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function cellText<Row>(column: TableColumn<Row>, row: Row): string {
  const v = column.value(row);
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    return column.digits === undefined ? String(v) : v.toFixed(column.digits);
  }
  return escapeCell(v);
}

function separator(align: Alignment | undefined, width: number): string {
  const dashes = '-'.repeat(Math.max(3, width - (align === 'center' ? 2 : align === 'right' ? 1 : 0)));
  if (align === 'center') return `:${dashes}:`;
  if (align === 'right') return `${dashes}:`;
  return dashes;
}

/** A markdown table with padded columns (readable as plain text too). */
export function formatMarkdownTable<Row>(columns: readonly TableColumn<Row>[], rows: readonly Row[]): string {
  if (columns.length === 0) throw new RangeError('Expected at least one column but received none');
  const headers = columns.map((c) => escapeCell(c.header));
  const body = rows.map((row) => columns.map((c) => cellText(c, row)));
  const widths = columns.map((_, j) => Math.max(3, headers[j].length, ...body.map((cells) => cells[j].length)));
  const pad = (text: string, j: number): string =>
    columns[j].align === 'right' ? text.padStart(widths[j]) : text.padEnd(widths[j]);
  const line = (cells: string[]): string => `| ${cells.map(pad).join(' | ')} |`;
  return [
    line(headers),
    `| ${columns.map((c, j) => separator(c.align, widths[j])).join(' | ')} |`,
    ...body.map(line),
  ].join('\n') + '\n';
}

/** One row of the study's sweep table: a trained configuration and its results. */
export interface SweepResultRow {
  /** "40X" | "100X" | "200X" | "400X". */
  magnification: string;
  batchSize: number;
  imagesPerClass: number;
  bestEpoch: number;
  valAccuracy: number;
  valWeightedF1: number;
  testAccuracy: number;
  testWeightedF1: number;
  /** Benign recall (specificity) on test. */
  benignRecall: number;
  /** Malignant recall (sensitivity) on test. */
  malignantRecall: number;
}

/** Columns of the study's results table; metrics shown as fractions with `digits` decimals. */
export function sweepTableColumns(digits = 3): TableColumn<SweepResultRow>[] {
  const metric = (header: string, value: (r: SweepResultRow) => number): TableColumn<SweepResultRow> => ({
    header,
    value,
    align: 'right',
    digits,
  });
  return [
    { header: 'Magnification', value: (r) => r.magnification },
    { header: 'Batch', value: (r) => r.batchSize, align: 'right' },
    { header: 'Images/class', value: (r) => r.imagesPerClass, align: 'right' },
    { header: 'Best epoch', value: (r) => r.bestEpoch, align: 'right' },
    metric('Val acc', (r) => r.valAccuracy),
    metric('Val F1', (r) => r.valWeightedF1),
    metric('Test acc', (r) => r.testAccuracy),
    metric('Test F1', (r) => r.testWeightedF1),
    metric('Benign recall', (r) => r.benignRecall),
    metric('Malignant recall', (r) => r.malignantRecall),
  ];
}

/** The sweep table in markdown. */
export function formatSweepTable(rows: readonly SweepResultRow[], digits = 3): string {
  return formatMarkdownTable(sweepTableColumns(digits), rows);
}
