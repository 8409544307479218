// What the folders around a file claim about it. Only used to warn when a re-packed copy files an
// image somewhere its name contradicts; the name always wins.
import { MAGNIFICATIONS, SUBTYPES, type BreakhisName, type Magnification, type SubtypeCode, type TumourClass } from './breakhis-names';

export interface FolderHints {
  cls?: TumourClass;
  subtype?: SubtypeCode;
  magnification?: Magnification;
  patient?: string;
}

/** Reads class/subtype/magnification/patient from folder names in a relative path (`/`-separated). */
export function folderHints(relativePath: string): FolderHints {
  const hints: FolderHints = {};
  const dirs = relativePath.split('/').slice(0, -1);
  for (const raw of dirs) {
    const seg = raw.toLowerCase();
    if (seg === 'benign' || seg === 'malignant') hints.cls = seg;
    const sub = SUBTYPES.find((s) => s.folder === seg || s.label === seg);
    if (sub) hints.subtype = sub.code;
    const mag = MAGNIFICATIONS.find((m) => m.toLowerCase() === seg);
    if (mag) hints.magnification = mag;
    // Patient folders in the original tree: SOB_B_A_14-22549AB
    const p = /^sob_([bm])_([a-z]+)_(\d+-\d+[a-z]*)$/.exec(seg);
    if (p) {
      hints.cls = p[1] === 'b' ? 'benign' : 'malignant';
      const code = SUBTYPES.find((s) => s.code.toLowerCase() === p[2]);
      if (code) hints.subtype = code.code;
      hints.patient = p[3].toUpperCase();
    }
  }
  return hints;
}

/** Sentences describing where the folders disagree with the file name; empty when they agree. */
export function folderConflicts(relativePath: string, name: BreakhisName): string[] {
  const h = folderHints(relativePath);
  const out: string[] = [];
  if (h.cls && h.cls !== name.cls) out.push(`${relativePath}: folder says ${h.cls}, name says ${name.cls}`);
  if (h.subtype && h.subtype !== name.subtype) out.push(`${relativePath}: folder says subtype ${h.subtype}, name says ${name.subtype}`);
  if (h.magnification && h.magnification !== name.magnification) {
    out.push(`${relativePath}: folder says ${h.magnification}, name says ${name.magnification}`);
  }
  if (h.patient && h.patient !== name.patient) out.push(`${relativePath}: folder says patient ${h.patient}, name says ${name.patient}`);
  return out;
}
