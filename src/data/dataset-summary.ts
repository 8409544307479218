// Counts over a manifest (class × magnification, subtype, patients) and their text rendering with
// the full dataset's expected counts alongside.
import { CLASSES, MAGNIFICATIONS, SUBTYPES, type Magnification, type SubtypeCode, type TumourClass } from './breakhis-names';
import { EXPECTED_IMAGES_BY_CLASS_MAG, EXPECTED_IMAGES_BY_SUBTYPE, EXPECTED_PATIENTS_BY_SUBTYPE, EXPECTED_TOTALS } from './breakhis-expected';
import type { Manifest, SkipKind } from './manifest';

export interface DatasetSummary {
  images: number;
  imagesByClassMag: Record<TumourClass, Record<Magnification, number>>;
  imagesByClass: Record<TumourClass, number>;
  imagesBySubtype: Record<SubtypeCode, number>;
  /** Patient folders (subtype + ID), the dataset's own way of counting its 82 patients. */
  patientsByClass: Record<TumourClass, number>;
  patientsBySubtype: Record<SubtypeCode, number>;
  /** Distinct patient IDs; lower than patient folders when an ID is filed under two subtypes. */
  patientIds: number;
  /** `700x460` → count. */
  sizes: Record<string, number>;
  skipped: number;
  skippedByKind: Partial<Record<SkipKind, number>>;
  warnings: number;
}

function zeroByMag(): Record<Magnification, number> {
  return { '40X': 0, '100X': 0, '200X': 0, '400X': 0 };
}

function zeroBySubtype(): Record<SubtypeCode, number> {
  return { A: 0, F: 0, PT: 0, TA: 0, DC: 0, LC: 0, MC: 0, PC: 0 };
}

export function summarizeManifest(m: Manifest): DatasetSummary {
  const imagesByClassMag = { benign: zeroByMag(), malignant: zeroByMag() };
  const imagesBySubtype = zeroBySubtype();
  const patientFolders = new Map<string, { cls: TumourClass; subtype: SubtypeCode }>();
  const ids = new Set<string>();
  const sizes: Record<string, number> = {};
  for (const e of m.entries) {
    imagesByClassMag[e.cls][e.magnification]++;
    imagesBySubtype[e.subtype]++;
    patientFolders.set(`${e.subtype}/${e.patient}`, { cls: e.cls, subtype: e.subtype });
    ids.add(e.patient);
    const size = `${e.width}x${e.height}`;
    sizes[size] = (sizes[size] ?? 0) + 1;
  }
  const patientsByClass = { benign: 0, malignant: 0 };
  const patientsBySubtype = zeroBySubtype();
  for (const p of patientFolders.values()) {
    patientsByClass[p.cls]++;
    patientsBySubtype[p.subtype]++;
  }
  const skippedByKind: Partial<Record<SkipKind, number>> = {};
  for (const s of m.skipped) skippedByKind[s.kind] = (skippedByKind[s.kind] ?? 0) + 1;
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    images: m.entries.length,
    imagesByClassMag,
    imagesByClass: { benign: sum(imagesByClassMag.benign), malignant: sum(imagesByClassMag.malignant) },
    imagesBySubtype,
    patientsByClass,
    patientsBySubtype,
    patientIds: ids.size,
    sizes,
    skipped: m.skipped.length,
    skippedByKind,
    warnings: m.warnings.length,
  };
}

const cell = (found: number, expected: number): string => `${found}/${expected}`.padStart(11);

/** A plain-text report: every count is "found/expected" for the full BreakHis dataset. */
export function formatSummary(s: DatasetSummary): string {
  const lines: string[] = [];
  lines.push(`Images: ${s.images} found / ${EXPECTED_TOTALS.images} in full BreakHis` + (s.images < EXPECTED_TOTALS.images ? ' (incomplete or a subset)' : ''));
  lines.push('');
  lines.push('Images by class x magnification (found/expected)');
  lines.push('class      ' + MAGNIFICATIONS.map((m) => m.padStart(11)).join('') + '      total'.padStart(11));
  for (const c of CLASSES) {
    const row = MAGNIFICATIONS.map((m) => cell(s.imagesByClassMag[c][m], EXPECTED_IMAGES_BY_CLASS_MAG[c][m])).join('');
    lines.push(c.padEnd(11) + row + cell(s.imagesByClass[c], EXPECTED_TOTALS.imagesByClass[c]));
  }
  lines.push('');
  lines.push('By subtype                 images   patients');
  for (const t of SUBTYPES) {
    lines.push(`${t.code.padEnd(3)} ${t.label.padEnd(20)}${cell(s.imagesBySubtype[t.code], EXPECTED_IMAGES_BY_SUBTYPE[t.code])}${cell(s.patientsBySubtype[t.code], EXPECTED_PATIENTS_BY_SUBTYPE[t.code])}`);
  }
  lines.push('');
  const pTotal = s.patientsByClass.benign + s.patientsByClass.malignant;
  lines.push(`Patients: benign ${s.patientsByClass.benign}/${EXPECTED_TOTALS.patientsByClass.benign}, malignant ${s.patientsByClass.malignant}/${EXPECTED_TOTALS.patientsByClass.malignant}, total ${pTotal}/${EXPECTED_TOTALS.patients} (${s.patientIds} distinct patient IDs)`);
  lines.push(`Image sizes: ${Object.entries(s.sizes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'}`);
  const kinds = Object.entries(s.skippedByKind).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push(`Skipped files: ${s.skipped}${kinds ? ` (${kinds})` : ''}`);
  lines.push(`Warnings: ${s.warnings}`);
  return lines.join('\n');
}
