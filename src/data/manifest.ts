// The manifest: one row per usable image of an indexed folder, plus what was skipped and why.
// Its hash covers only the image rows, so a split can tell whether it was made from this data.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { BreakhisName } from './breakhis-names';
import { MAGNIFICATIONS, SUBTYPES } from './breakhis-names';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write';

export const MANIFEST_VERSION = 1;

/** One indexed image: what its BreakHis name says, plus what the file itself is. */
export interface ManifestEntry extends Pick<BreakhisName, 'cls' | 'subtype' | 'patient' | 'caseNumber' | 'magnification' | 'sequence'> {
  /** Path relative to the manifest root, `/`-separated. */
  path: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
}

export type SkipKind = 'empty' | 'not-image' | 'corrupt' | 'bad-name' | 'unreadable' | 'too-large';

export interface SkippedFile {
  path: string;
  kind: SkipKind;
  reason: string;
}

export interface Manifest {
  version: number;
  /** Absolute folder the entry paths are relative to, at index time. */
  root: string;
  createdAt: string;
  /** sha256 over the entry rows; see manifestHash. */
  hash: string;
  entries: ManifestEntry[];
  skipped: SkippedFile[];
  /** Folder/name disagreements and other oddities worth a look. */
  warnings: string[];
}

/** Hash of the image rows in path order: same files with same content → same hash. */
export function manifestHash(entries: readonly ManifestEntry[]): string {
  const h = createHash('sha256');
  const sorted = entries.slice().sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    h.update(`${e.path}\t${e.cls}\t${e.subtype}\t${e.patient}\t${e.magnification}\t${e.sha256}\n`);
  }
  return h.digest('hex');
}

const CSV_COLUMNS: (keyof ManifestEntry)[] = [
  'path', 'cls', 'subtype', 'patient', 'caseNumber', 'magnification', 'sequence', 'width', 'height', 'bytes', 'sha256',
];

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function manifestToCsv(m: Manifest): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const e of m.entries) rows.push(CSV_COLUMNS.map((c) => csvCell(e[c])).join(','));
  return rows.join('\n') + '\n';
}

/** Writes `<file>.json` and a CSV beside it (same stem), both atomically. Returns both paths. */
export async function writeManifest(jsonPath: string, m: Manifest): Promise<{ json: string; csv: string }> {
  const csv = jsonPath.replace(/\.json$/i, '') + '.csv';
  await writeJsonAtomic(jsonPath, m);
  await writeFileAtomic(csv, manifestToCsv(m));
  return { json: jsonPath, csv };
}

const SUBTYPE_CODES = new Set<string>(SUBTYPES.map((s) => s.code));

/** Reads and checks a manifest file; errors say what is wrong and what to do. */
export function readManifest(file: string): Manifest {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read manifest ${file} (${(err as Error).message}); run \`histoscope index DIR\` first.`, { cause: err });
  }
  let m: Manifest;
  try {
    m = JSON.parse(raw) as Manifest;
  } catch {
    throw new Error(`Manifest ${file} is not valid JSON; re-run \`histoscope index DIR\`.`);
  }
  if (!m || m.version !== MANIFEST_VERSION || !Array.isArray(m.entries) || typeof m.root !== 'string') {
    throw new Error(`${file} is not a Histoscope manifest (version ${MANIFEST_VERSION}); re-run \`histoscope index DIR\`.`);
  }
  for (const e of m.entries) {
    if (typeof e.path !== 'string' || (e.cls !== 'benign' && e.cls !== 'malignant') || !SUBTYPE_CODES.has(e.subtype)
      || !MAGNIFICATIONS.includes(e.magnification) || typeof e.patient !== 'string') {
      throw new Error(`Manifest ${file} has a malformed entry ${JSON.stringify(e).slice(0, 120)}; re-run \`histoscope index DIR\`.`);
    }
  }
  const hash = manifestHash(m.entries);
  if (hash !== m.hash) throw new Error(`Manifest ${file} was edited after indexing (hash mismatch); re-run \`histoscope index DIR\`.`);
  return m;
}
