// The confusion matrix as the study draws it: rows = true class, malignant first, each cell
// with its count and row percentage, shaded by the row percentage so classes of different
// sizes compare fairly.
import { ConfusionMatrix } from '../confusion-matrix';
import { line, svgClose, svgOpen, text } from './svg-kit';

export interface ConfusionMatrixPlotOptions {
  title?: string;
  classNames?: { malignant: string; benign: string };
}

// Light to dark blue (the ends of matplotlib's "Blues"), interpolated linearly in RGB.
const LIGHT = [247, 251, 255];
const DARK = [8, 48, 107];

function shade(fraction: number): string {
  const c = LIGHT.map((l, i) => Math.round(l + (DARK[i] - l) * fraction));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Row percentages: each true class's counts as a share of that class. */
export function rowPercentages(cm: ConfusionMatrix): [[number, number], [number, number]] {
  const row = (r: readonly [number, number]): [number, number] => {
    const sum = r[0] + r[1];
    return sum === 0 ? [0, 0] : [(100 * r[0]) / sum, (100 * r[1]) / sum];
  };
  return [row(cm.matrix[0]), row(cm.matrix[1])];
}

export function renderConfusionMatrixSvg(cm: ConfusionMatrix, options: ConfusionMatrixPlotOptions = {}): string {
  const title = options.title ?? 'Confusion matrix';
  const names = options.classNames ?? { malignant: 'Malignant', benign: 'Benign' };
  const labels = [names.malignant, names.benign]; // the study's order: positive class first
  const width = 600;
  const height = 480;
  const cell = 150;
  const left = 170;
  const top = 80;
  const percentages = rowPercentages(cm);

  const parts = [svgOpen(width, height, title)];
  parts.push(text(left + cell, 34, title, { size: 17, anchor: 'middle', weight: 'bold' }));
  parts.push(text(left + cell, top - 14, 'Predicted class', { size: 14, anchor: 'middle' }));
  parts.push(text(36, top + cell, 'True class', { size: 14, anchor: 'middle', rotate: -90 }));
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      const x = left + c * cell;
      const y = top + r * cell;
      const fraction = percentages[r][c] / 100;
      const ink = fraction > 0.5 ? '#ffffff' : '#111111';
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${shade(fraction)}" stroke="#ffffff" stroke-width="2"/>`);
      parts.push(text(x + cell / 2, y + cell / 2 - 2, String(cm.matrix[r][c]), { size: 26, anchor: 'middle', weight: 'bold', fill: ink }));
      parts.push(text(x + cell / 2, y + cell / 2 + 24, `${percentages[r][c].toFixed(1)}%`, { size: 15, anchor: 'middle', fill: ink }));
    }
    parts.push(text(left - 12, top + r * cell + cell / 2 + 5, labels[r], { size: 14, anchor: 'end' }));
  }
  for (let c = 0; c < 2; c++) {
    parts.push(text(left + c * cell + cell / 2, top + 2 * cell + 24, labels[c], { size: 14, anchor: 'middle' }));
  }
  parts.push(`<rect x="${left}" y="${top}" width="${2 * cell}" height="${2 * cell}" fill="none" stroke="#222222" stroke-width="1"/>`);

  // Colour bar: what the shading means.
  const barX = left + 2 * cell + 40;
  parts.push(
    `<defs><linearGradient id="cm-scale" x1="0" y1="1" x2="0" y2="0">` +
      `<stop offset="0" stop-color="${shade(0)}"/><stop offset="1" stop-color="${shade(1)}"/></linearGradient></defs>`,
  );
  parts.push(`<rect x="${barX}" y="${top}" width="18" height="${2 * cell}" fill="url(#cm-scale)" stroke="#222222" stroke-width="1"/>`);
  for (const pct of [0, 25, 50, 75, 100]) {
    const y = top + 2 * cell * (1 - pct / 100);
    parts.push(line(barX + 18, y, barX + 23, y, '#222222'));
    parts.push(text(barX + 27, y + 4, `${pct}%`, { size: 11 }));
  }
  parts.push(text(barX + 9, top + 2 * cell + 24, 'Row %', { size: 11, anchor: 'middle' }));
  parts.push(
    text(width / 2, height - 22, `n = ${cm.total} (${cm.malignant} ${names.malignant.toLowerCase()}, ${cm.benign} ${names.benign.toLowerCase()})`, {
      size: 12,
      anchor: 'middle',
      fill: '#555555',
    }),
  );
  parts.push(svgClose());
  return parts.join('\n');
}
