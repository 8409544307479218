// The rendezvous compares a hash of each rank's training configuration, so ranks started with
// different data, recipes or seeds fail at once instead of training something meaningless.
import { createHash } from 'node:crypto';

/** Stable sha256 (first 16 hex digits) of a JSON value: object keys sorted at every level. */
export function configHash(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex').slice(0, 16);
}
