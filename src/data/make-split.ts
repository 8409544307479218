// Patient-wise, class-stratified, seeded splits (hold-out or k-fold). Groups (patients or cases)
// are shuffled per class and dealt into parts, so no group is ever in two parts and each part's
// share of each class's groups is within one group of its target.
import { CLASSES, MAGNIFICATIONS, type Magnification, type TumourClass } from './breakhis-names';
import { proportionalQuotas, sampleAcrossPatients } from './cap-images';
import type { Manifest, ManifestEntry } from './manifest';
import { expectInteger, expectNumber, expectOneOf, ValidationError } from '../util/expect';
import { deriveSeed, mulberry32, shuffle } from '../util/prng';
import { type GroupBy, PART_NAMES, type PartName, type SplitFile, type SplitFold, type SplitFractions, type SplitPart } from './split-types';

export const SPLIT_VERSION = 1;
export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };

export interface SplitOptions {
  seed?: number;
  fractions?: SplitFractions;
  groupBy?: GroupBy;
  /** Max images per class per magnification over all parts (the study used 500 or 600). */
  capPerClass?: number;
  /** k-fold mode when set (≥ 2): test = fold i, val carved from the rest with `fractions.val`. */
  folds?: number;
  /** Keep only these magnifications (default: all found). */
  magnifications?: Magnification[];
  /** Recorded in the split file so `loadSplit` can find the manifest. */
  manifestPath?: string;
}

export function groupKey(e: ManifestEntry, groupBy: GroupBy): string {
  return groupBy === 'case' ? e.caseNumber : e.patient;
}

function checkOptions(o: SplitOptions): void {
  const f = o.fractions ?? DEFAULT_FRACTIONS;
  for (const k of PART_NAMES) expectNumber(f[k], `split fraction ${k}`, 0);
  if (Math.abs(f.train + f.val + f.test - 1) > 1e-6 && o.folds === undefined) {
    throw new ValidationError(`Expected fractions that add up to 1 for split fractions but received train ${f.train} + val ${f.val} + test ${f.test}`);
  }
  if (o.seed !== undefined) expectInteger(o.seed, 'seed', 0);
  if (o.capPerClass !== undefined) expectInteger(o.capPerClass, 'images per class', 1);
  if (o.folds !== undefined) expectInteger(o.folds, 'folds', 2);
  if (o.groupBy !== undefined) expectOneOf(o.groupBy, 'grouping', ['patient', 'case'] as const);
}

/** Each group's class: the class of most of its images (BreakHis patients have one class). */
function groupsByClass(entries: readonly ManifestEntry[], groupBy: GroupBy): Record<TumourClass, string[]> {
  const counts = new Map<string, Record<TumourClass, number>>();
  for (const e of entries) {
    const k = groupKey(e, groupBy);
    const c = counts.get(k) ?? { benign: 0, malignant: 0 };
    c[e.cls]++;
    counts.set(k, c);
  }
  const out: Record<TumourClass, string[]> = { benign: [], malignant: [] };
  for (const [k, c] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out[c.malignant > c.benign ? 'malignant' : 'benign'].push(k);
  return out;
}

type Assignment = Map<string, PartName>;

function holdoutAssignment(groups: Record<TumourClass, string[]>, f: SplitFractions, seed: number): Assignment {
  const a: Assignment = new Map();
  for (const cls of CLASSES) {
    const order = shuffle(mulberry32(deriveSeed(seed, `holdout/${cls}`)), groups[cls]);
    const n = order.length;
    const nTest = Math.round(n * f.test);
    const nVal = Math.min(n - nTest, Math.round(n * f.val));
    order.forEach((g, i) => a.set(g, i < nTest ? 'test' : i < nTest + nVal ? 'val' : 'train'));
  }
  return a;
}

function kfoldAssignments(groups: Record<TumourClass, string[]>, k: number, valFraction: number, seed: number): Assignment[] {
  const out: Assignment[] = Array.from({ length: k }, () => new Map());
  for (const cls of CLASSES) {
    const order = shuffle(mulberry32(deriveSeed(seed, `kfold/${cls}`)), groups[cls]);
    // Deal round-robin so fold sizes differ by at most one group per class.
    const foldOf = new Map<string, number>(order.map((g, i) => [g, i % k]));
    const nVal = Math.round(order.length * valFraction);
    for (let fold = 0; fold < k; fold++) {
      const rest = order.filter((g) => foldOf.get(g) !== fold);
      const valSet = new Set(shuffle(mulberry32(deriveSeed(seed, `kfold/${cls}/val/${fold}`)), rest).slice(0, Math.min(nVal, rest.length)));
      for (const g of order) out[fold].set(g, foldOf.get(g) === fold ? 'test' : valSet.has(g) ? 'val' : 'train');
    }
  }
  return out;
}

function applyCap(parts: Record<PartName, ManifestEntry[]>, cap: number, seed: number, foldName: string): Record<PartName, ManifestEntry[]> {
  const out: Record<PartName, ManifestEntry[]> = { train: [], val: [], test: [] };
  for (const mag of MAGNIFICATIONS) {
    for (const cls of CLASSES) {
      const pools = PART_NAMES.map((p) => parts[p].filter((e) => e.magnification === mag && e.cls === cls));
      const quotas = proportionalQuotas(Math.min(cap, pools.reduce((s, p) => s + p.length, 0)), pools.map((p) => p.length));
      PART_NAMES.forEach((p, i) => out[p].push(...sampleAcrossPatients(pools[i], quotas[i], deriveSeed(seed, `cap/${foldName}/${p}/${mag}/${cls}`))));
    }
  }
  return out;
}

function toPart(entries: ManifestEntry[], groupBy: GroupBy): SplitPart {
  const sortUniq = (xs: string[]): string[] => [...new Set(xs)].sort();
  return {
    groups: sortUniq(entries.map((e) => groupKey(e, groupBy))),
    patients: sortUniq(entries.map((e) => e.patient)),
    images: entries.map((e) => e.path).sort(),
    imagesByClass: {
      benign: entries.filter((e) => e.cls === 'benign').length,
      malignant: entries.filter((e) => e.cls === 'malignant').length,
    },
  };
}

/** Builds a split from a manifest; pure (no I/O), deterministic for the options. */
export function makeSplit(manifest: Manifest, options: SplitOptions = {}): SplitFile {
  checkOptions(options);
  const seed = options.seed ?? 42;
  const fractions = options.fractions ?? DEFAULT_FRACTIONS;
  const groupBy = options.groupBy ?? 'patient';
  const mags = options.magnifications ?? MAGNIFICATIONS.filter((m) => manifest.entries.some((e) => e.magnification === m));
  const entries = manifest.entries.filter((e) => mags.includes(e.magnification));
  if (entries.length === 0) throw new Error(`The manifest has no images at ${mags.join(', ')}; index a BreakHis folder first.`);
  const groups = groupsByClass(entries, groupBy);
  const assignments = options.folds
    ? kfoldAssignments(groups, options.folds, fractions.val, seed)
    : [holdoutAssignment(groups, fractions, seed)];
  const splits: SplitFold[] = assignments.map((assign, i) => {
    const name = options.folds ? `fold-${i + 1}` : 'holdout';
    let parts: Record<PartName, ManifestEntry[]> = { train: [], val: [], test: [] };
    for (const e of entries) parts[assign.get(groupKey(e, groupBy))!].push(e);
    if (options.capPerClass) parts = applyCap(parts, options.capPerClass, seed, name);
    return { name, parts: { train: toPart(parts.train, groupBy), val: toPart(parts.val, groupBy), test: toPart(parts.test, groupBy) } };
  });
  return {
    version: SPLIT_VERSION,
    kind: options.folds ? 'kfold' : 'holdout',
    seed,
    fractions,
    ...(options.folds ? { folds: options.folds } : {}),
    groupBy,
    ...(options.capPerClass ? { capPerClass: options.capPerClass } : {}),
    magnifications: mags,
    manifest: { ...(options.manifestPath ? { path: options.manifestPath } : {}), hash: manifest.hash, root: manifest.root },
    createdAt: new Date().toISOString(),
    splits,
  };
}
