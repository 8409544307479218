// BreakHis vocabulary and file-name parsing. The file name is the source of truth for an image's
// class, subtype, patient and magnification: folder shapes vary between re-packed copies.

export type TumourClass = 'benign' | 'malignant';
export type SubtypeCode = 'A' | 'F' | 'PT' | 'TA' | 'DC' | 'LC' | 'MC' | 'PC';
export type Magnification = '40X' | '100X' | '200X' | '400X';

export const MAGNIFICATIONS: readonly Magnification[] = ['40X', '100X', '200X', '400X'];
export const CLASSES: readonly TumourClass[] = ['benign', 'malignant'];

/** A magnification as people type it ("100X", "100x", " 100 ") → '100X'; undefined when it is none of the four. */
export function normaliseMagnification(raw: string): Magnification | undefined {
  const mag = raw.trim().toUpperCase().replace(/^(\d+)$/, '$1X');
  return MAGNIFICATIONS.find((m) => m === mag);
}

/** Class index used everywhere: 0 = benign, 1 = malignant ("positive"). */
export function classIndex(cls: TumourClass): 0 | 1 {
  return cls === 'malignant' ? 1 : 0;
}

export interface SubtypeInfo {
  code: SubtypeCode;
  cls: TumourClass;
  /** Folder name in the original BreaKHis_v1 tree. */
  folder: string;
  label: string;
}

export const SUBTYPES: readonly SubtypeInfo[] = [
  { code: 'A', cls: 'benign', folder: 'adenosis', label: 'adenosis' },
  { code: 'F', cls: 'benign', folder: 'fibroadenoma', label: 'fibroadenoma' },
  { code: 'PT', cls: 'benign', folder: 'phyllodes_tumor', label: 'phyllodes tumor' },
  { code: 'TA', cls: 'benign', folder: 'tubular_adenoma', label: 'tubular adenoma' },
  { code: 'DC', cls: 'malignant', folder: 'ductal_carcinoma', label: 'ductal carcinoma' },
  { code: 'LC', cls: 'malignant', folder: 'lobular_carcinoma', label: 'lobular carcinoma' },
  { code: 'MC', cls: 'malignant', folder: 'mucinous_carcinoma', label: 'mucinous carcinoma' },
  { code: 'PC', cls: 'malignant', folder: 'papillary_carcinoma', label: 'papillary carcinoma' },
];

export function subtypeInfo(code: SubtypeCode): SubtypeInfo {
  const info = SUBTYPES.find((s) => s.code === code);
  if (!info) throw new Error(`Unknown BreakHis subtype code ${code}`);
  return info;
}

export interface BreakhisName {
  procedure: 'SOB';
  cls: TumourClass;
  subtype: SubtypeCode;
  /** Patient (slide) ID as written, e.g. `14-22549AB`. */
  patient: string;
  /** Case number without the slide letters, e.g. `14-22549`: some cases appear under several IDs. */
  caseNumber: string;
  magnification: Magnification;
  /** Sequence number as written, e.g. `001`. */
  sequence: string;
  extension: string;
}

export type NameParse = { ok: true; name: BreakhisName } | { ok: false; reason: string };

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'tif', 'tiff']);
const SUBTYPE_CODES = new Set<string>(SUBTYPES.map((s) => s.code));
const MAG_NUMBERS = new Set(['40', '100', '200', '400']);

/**
 * Parses `SOB_B_A-14-22549AB-40-001.png`. Letter case is normalised (`sob_b_a-....PNG` parses);
 * a failure says which part is wrong, so an index report tells the user what to rename.
 */
export function parseBreakhisName(fileName: string): NameParse {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return { ok: false, reason: 'has no file extension' };
  const extension = fileName.slice(dot + 1).toLowerCase();
  if (!IMAGE_EXTENSIONS.has(extension)) return { ok: false, reason: `extension .${extension} is not an image type` };
  const stem = fileName.slice(0, dot).toUpperCase();
  const m = /^([A-Z]+)_([A-Z]+)_([A-Z]+)-(\d+)-(\d+)([A-Z]*)-(\d+)-(\d+)$/.exec(stem);
  if (!m) {
    return { ok: false, reason: 'does not match SOB_<B|M>_<subtype>-<yy>-<case><letters>-<mag>-<seq>' };
  }
  const [, procedure, clsLetter, subtype, year, caseNo, letters, mag, sequence] = m;
  if (procedure !== 'SOB') return { ok: false, reason: `procedure ${procedure} is not SOB` };
  if (clsLetter !== 'B' && clsLetter !== 'M') return { ok: false, reason: `class ${clsLetter} is not B or M` };
  if (!SUBTYPE_CODES.has(subtype)) return { ok: false, reason: `subtype code ${subtype} is not one of A, F, PT, TA, DC, LC, MC, PC` };
  const info = subtypeInfo(subtype as SubtypeCode);
  const cls: TumourClass = clsLetter === 'B' ? 'benign' : 'malignant';
  if (info.cls !== cls) return { ok: false, reason: `subtype ${subtype} is ${info.cls} but the class letter says ${cls}` };
  if (!MAG_NUMBERS.has(mag)) return { ok: false, reason: `magnification ${mag} is not 40, 100, 200 or 400` };
  return {
    ok: true,
    name: {
      procedure: 'SOB',
      cls,
      subtype: info.code,
      patient: `${year}-${caseNo}${letters}`,
      caseNumber: `${year}-${caseNo}`,
      magnification: `${mag}X` as Magnification,
      sequence,
      extension,
    },
  };
}

/** `14-22549AB` → `14-22549`. */
export function caseNumberOf(patient: string): string {
  const m = /^(\d+-\d+)[A-Za-z]*$/.exec(patient);
  return m ? m[1] : patient;
}

/** Builds the canonical file name (used by the synthetic generator). */
export function formatBreakhisName(n: { cls: TumourClass; subtype: SubtypeCode; patient: string; magnification: Magnification; sequence: number }): string {
  const mag = n.magnification.replace('X', '');
  const seq = String(n.sequence).padStart(3, '0');
  return `SOB_${n.cls === 'benign' ? 'B' : 'M'}_${n.subtype}-${n.patient}-${mag}-${seq}.png`;
}
