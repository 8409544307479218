// The synthetic cohort: half benign, half malignant, subtypes cycled within each class so all
// eight appear from 8 patients on. From the ninth on, every fifth patient shares its case number with the previous
// one under new slide letters, as some BreakHis cases do (14-22549AB / 14-22549CD).
import { type SubtypeCode, SUBTYPES, type TumourClass } from '../breakhis-names';
import { deriveSeed, mulberry32 } from '../../util/prng';
import { patientStain, type StainStyle } from './stain';

export interface SyntheticPatient {
  cls: TumourClass;
  subtype: SubtypeCode;
  patient: string;
  stain: StainStyle;
}

export function syntheticPatients(count: number, seed: number): SyntheticPatient[] {
  const rng = mulberry32(deriveSeed(seed, 'patients'));
  const benignCodes = SUBTYPES.filter((s) => s.cls === 'benign').map((s) => s.code);
  const malignantCodes = SUBTYPES.filter((s) => s.cls === 'malignant').map((s) => s.code);
  const usedCases = new Set<string>();
  const out: SyntheticPatient[] = [];
  const letters = ['AB', 'CD', 'EF', 'G'];
  let lastCase: Record<TumourClass, string | undefined> = { benign: undefined, malignant: undefined };
  for (let i = 0; i < count; i++) {
    const cls: TumourClass = i % 2 === 0 ? 'benign' : 'malignant';
    const within = Math.floor(i / 2);
    let subtype = (cls === 'benign' ? benignCodes : malignantCodes)[within % 4];
    let patient: string;
    const sibling = lastCase[cls];
    // Siblings only after the first 8 patients, so small cohorts still hold all eight subtypes.
    if (i >= 8 && i % 5 === 4 && sibling) {
      subtype = out[i - 2].subtype;
      patient = `${sibling}${letters[1 + Math.floor(rng() * 3)]}`;
    } else {
      let caseNo: string;
      do caseNo = `${rng() < 0.85 ? 14 : 15}-${1000 + Math.floor(rng() * 29000)}`;
      while (usedCases.has(caseNo));
      usedCases.add(caseNo);
      lastCase = { ...lastCase, [cls]: caseNo };
      patient = rng() < 0.3 ? `${caseNo}${letters[0]}` : caseNo;
    }
    out.push({ cls, subtype, patient, stain: patientStain(mulberry32(deriveSeed(seed, `stain/${i}`))) });
  }
  return out;
}
