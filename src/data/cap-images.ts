// The "images per class" cap of the study, applied after the patient split so no part loses a
// patient. Policy, per magnification and class when the images exceed the cap:
//  1. the cap is shared between parts in proportion to each part's images (largest remainder);
//  2. inside a part, images are taken round-robin over its patients (patients and each patient's
//     images in seeded order), so every patient keeps ≥ 1 image whenever the quota allows.
import type { ManifestEntry } from './manifest';
import { deriveSeed, mulberry32, shuffle } from '../util/prng';

/** Splits `total` into integer shares proportional to `weights` (largest remainder). */
export function proportionalQuotas(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const quotas = exact.map(Math.floor);
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    quotas[i]++;
    left--;
  }
  return quotas.map((q, i) => Math.min(q, weights[i]));
}

/** Picks `quota` images round-robin over patients, deterministically for `seed`. */
export function sampleAcrossPatients(images: readonly ManifestEntry[], quota: number, seed: number): ManifestEntry[] {
  if (quota >= images.length) return images.slice();
  const byPatient = new Map<string, ManifestEntry[]>();
  for (const e of images) byPatient.set(e.patient, [...(byPatient.get(e.patient) ?? []), e]);
  const patients = shuffle(mulberry32(seed), [...byPatient.keys()].sort());
  const queues = patients.map((p) => shuffle(mulberry32(deriveSeed(seed, p)), byPatient.get(p)!.slice().sort((a, b) => (a.path < b.path ? -1 : 1))));
  const out: ManifestEntry[] = [];
  for (let round = 0; out.length < quota; round++) {
    for (const q of queues) {
      if (out.length >= quota) break;
      if (round < q.length) out.push(q[round]);
    }
  }
  return out;
}
