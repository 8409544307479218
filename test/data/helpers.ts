// Shared test fixtures: temp folders and in-memory manifests (no image files needed).
import * as path from 'node:path';
import { caseNumberOf, formatBreakhisName, MAGNIFICATIONS, type Manifest, type ManifestEntry, manifestHash, mulberry32, SUBTYPES, type TumourClass } from '../../src/data';
import { tmpDir } from '../helpers/tmp-dir';

export const repoRoot = path.resolve(__dirname, '../..');
/** The real BreakHis sample beside the checkout, or where HISTOSCOPE_SAMPLE_DIR points (e.g. from a worktree). */
export const samplePath = process.env.HISTOSCOPE_SAMPLE_DIR ?? path.resolve(repoRoot, '../shared/data/breakhis-sample');

export { tmpDir };

/** A manifest of `benign` + `malignant` patients with random image counts per magnification. */
export function fakeManifest(benign: number, malignant: number, seed: number, maxPerMag = 30): Manifest {
  const rng = mulberry32(seed);
  const entries: ManifestEntry[] = [];
  const add = (cls: TumourClass, i: number): void => {
    const subs = SUBTYPES.filter((s) => s.cls === cls);
    const subtype = subs[i % subs.length].code;
    // Every third patient shares a case number with the one before (slide letters differ).
    const caseNo = `14-${cls === 'benign' ? 1000 + (i - (i % 3 === 2 ? 1 : 0)) : 5000 + (i - (i % 3 === 2 ? 1 : 0))}`;
    const patient = i % 3 === 2 ? `${caseNo}CD` : i % 3 === 1 ? `${caseNo}AB` : caseNo;
    for (const mag of MAGNIFICATIONS) {
      const n = 1 + Math.floor(rng() * maxPerMag);
      for (let s = 1; s <= n; s++) {
        const name = formatBreakhisName({ cls, subtype, patient, magnification: mag, sequence: s });
        entries.push({
          path: `${mag}/${name}`, cls, subtype, patient, caseNumber: caseNumberOf(patient), magnification: mag,
          sequence: String(s).padStart(3, '0'), width: 700, height: 460, bytes: 1, sha256: name,
        });
      }
    }
  };
  for (let i = 0; i < benign; i++) add('benign', i);
  for (let i = 0; i < malignant; i++) add('malignant', i);
  return { version: 1, root: '/nonexistent', createdAt: '', hash: manifestHash(entries), entries, skipped: [], warnings: [] };
}
