// Indexes a BreakHis folder in any layout: every file is read, hashed, checked to decode, and its
// name parsed. Bad files are recorded with the reason and skipped; one never stops the index.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { type SubtypeCode, parseBreakhisName, subtypeInfo } from './breakhis-names';
import { mapWithConcurrency } from './concurrency';
import { DEFAULT_LIMIT_INPUT_PIXELS } from './decode-image';
import { folderConflicts } from './folder-hints';
import { sniffImageFormat } from './image-signature';
import { type Manifest, type ManifestEntry, type SkippedFile, MANIFEST_VERSION, manifestHash } from './manifest';
import { type Progress, silentProgress } from './progress';
import { listFiles } from './walk-files';

export interface IndexOptions {
  /** Files read and checked at once (default 4). */
  concurrency?: number;
  /** Fully decode each image to catch truncation (default true); false only reads headers. */
  verify?: boolean;
  limitInputPixels?: number;
  /** Called once the files are listed, with their count. */
  progress?: (total: number) => Progress;
}

type FileResult = { entry: ManifestEntry; warnings: string[] } | { skipped: SkippedFile };

async function indexOneFile(root: string, rel: string, opts: Required<Omit<IndexOptions, 'progress'>>): Promise<FileResult> {
  const skip = (kind: SkippedFile['kind'], reason: string): FileResult => ({ skipped: { path: rel, kind, reason } });
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(path.join(root, rel));
  } catch (err) {
    return skip('unreadable', `cannot be read (${(err as Error).message})`);
  }
  if (bytes.length === 0) return skip('empty', 'file is empty (0 bytes)');
  const format = sniffImageFormat(bytes.subarray(0, 16));
  if (!format) return skip('not-image', 'not an image (no PNG/JPEG/TIFF/WebP/GIF/BMP signature)');
  const parsed = parseBreakhisName(path.posix.basename(rel));
  if (!parsed.ok) return skip('bad-name', `name is not a BreakHis image name: ${parsed.reason}`);
  let width: number;
  let height: number;
  try {
    const image = sharp(bytes, { failOn: 'truncated', limitInputPixels: opts.limitInputPixels });
    const meta = await image.metadata();
    if (!meta.width || !meta.height) return skip('corrupt', `${format} header has no size`);
    width = meta.width;
    height = meta.height;
    if (opts.verify) await image.raw().toBuffer();
  } catch (err) {
    const msg = (err as Error).message;
    if (/pixel limit/i.test(msg)) return skip('too-large', `image exceeds the pixel limit of ${opts.limitInputPixels} pixels`);
    return skip('corrupt', `${format} file cannot be decoded (${msg.split('\n')[0]})`);
  }
  const n = parsed.name;
  const entry: ManifestEntry = {
    path: rel,
    cls: n.cls,
    subtype: n.subtype,
    patient: n.patient,
    caseNumber: n.caseNumber,
    magnification: n.magnification,
    sequence: n.sequence,
    width,
    height,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  return { entry, warnings: folderConflicts(rel, n) };
}

/** Oddities across files: identical content twice, one patient ID under several subtypes. */
function crossFileWarnings(entries: readonly ManifestEntry[]): string[] {
  const warnings: string[] = [];
  const byHash = new Map<string, string[]>();
  const subtypesByPatient = new Map<string, Set<SubtypeCode>>();
  for (const e of entries) {
    byHash.set(e.sha256, [...(byHash.get(e.sha256) ?? []), e.path]);
    const s = subtypesByPatient.get(e.patient) ?? new Set<SubtypeCode>();
    s.add(e.subtype);
    subtypesByPatient.set(e.patient, s);
  }
  for (const paths of byHash.values()) {
    if (paths.length > 1) warnings.push(`identical content in ${paths.length} files: ${paths.join(', ')}`);
  }
  for (const [patient, subs] of subtypesByPatient) {
    if (subs.size > 1) {
      const names = [...subs].sort().map((c) => `${c} (${subtypeInfo(c).label})`).join(', ');
      warnings.push(`patient ${patient} appears under several subtypes: ${names}; splits keep it in one part`);
    }
  }
  return warnings;
}

export async function indexDataset(dir: string, options: IndexOptions = {}): Promise<Manifest> {
  const root = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(root);
  } catch {
    throw new Error(`Dataset folder ${root} does not exist; pass the folder holding the BreakHis images.`);
  }
  if (!stat.isDirectory()) throw new Error(`${root} is not a folder; pass the folder holding the BreakHis images.`);
  const opts = {
    concurrency: options.concurrency ?? 4,
    verify: options.verify ?? true,
    limitInputPixels: options.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS,
  };
  const files = await listFiles(root);
  const progress = options.progress?.(files.length) ?? silentProgress;
  let done = 0;
  const results = await mapWithConcurrency(files, opts.concurrency, async (rel) => {
    const r = await indexOneFile(root, rel, opts);
    progress.tick(++done, rel);
    return r;
  });
  progress.finish();
  const entries: ManifestEntry[] = [];
  const skipped: SkippedFile[] = [];
  const warnings: string[] = [];
  for (const r of results) {
    if ('skipped' in r) skipped.push(r.skipped);
    else {
      entries.push(r.entry);
      warnings.push(...r.warnings);
    }
  }
  warnings.push(...crossFileWarnings(entries));
  return {
    version: MANIFEST_VERSION,
    root,
    createdAt: new Date().toISOString(),
    hash: manifestHash(entries),
    entries,
    skipped,
    warnings,
  };
}
