// Which test images a run's Grad-CAM gallery shows: a few per class, chosen by a seeded generator
// and spread over subtypes first and patients second, so one patient or one common subtype never
// fills the page. The same records and seed always give the same images, in any input order.
import { deriveSeed, mulberry32, shuffle } from '../../util/prng';
import type { ClassLabel } from '../prediction-record';

export interface GalleryCandidate {
  path: string;
  label: ClassLabel;
  patient: string;
  subtype?: string;
}

/** Items grouped by `key`, groups in first-seen order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    groups.set(k, [...(groups.get(k) ?? []), item]);
  }
  return [...groups.values()];
}

/**
 * Round-robin over groups: one from the first group, one from the second, …, then the second
 * item of each, until `count` are taken or every group is empty.
 */
function roundRobin<T>(groups: readonly (readonly T[])[], count: number): T[] {
  const out: T[] = [];
  for (let depth = 0; out.length < count && groups.some((g) => g.length > depth); depth++) {
    for (const g of groups) {
      if (out.length >= count) break;
      if (depth < g.length) out.push(g[depth]);
    }
  }
  return out;
}

/** Up to `perClass` images of one class: shuffled subtypes, within each its patients in turn. */
function pickClass<T extends GalleryCandidate>(items: readonly T[], perClass: number, seed: number): T[] {
  const rng = mulberry32(seed);
  const subtypes = shuffle(rng, groupBy(items, (c) => c.subtype ?? '?'));
  // Each subtype's images as a queue that visits its patients in turn.
  const queues = subtypes.map((ofSubtype) => roundRobin(shuffle(rng, groupBy(ofSubtype, (c) => c.patient)).map((p) => shuffle(rng, p)), ofSubtype.length));
  return roundRobin(queues, perClass);
}

/**
 * Indices into `candidates` of the gallery's images: up to `perClass` benign then up to
 * `perClass` malignant. Candidates are put in path order first, so the result does not depend on
 * the order predictions came in.
 */
export function selectGallery(candidates: readonly GalleryCandidate[], options: { perClass: number; seed: number }): number[] {
  const indexed = candidates.map((c, index) => ({ ...c, index })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.index - b.index));
  const out: number[] = [];
  for (const label of [0, 1] as const) {
    const ofClass = indexed.filter((c) => c.label === label);
    out.push(...pickClass(ofClass, options.perClass, deriveSeed(options.seed, `gallery-class-${label}`)).map((c) => c.index));
  }
  return out;
}
