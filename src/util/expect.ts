// One message shape for invalid arguments and settings, after sharp's `is`:
// "Expected positive integer for batch size but received -3 of type number". The errors are
// ValidationError, a TypeError, so callers can tell a bad argument from a failing operation.

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}'`;
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (Array.isArray(value)) {
    return value.length <= 8 && value.every((v) => typeof v === 'number') ? `[${value.join(', ')}]` : `array(${value.length})`;
  }
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

export class ValidationError extends TypeError {
  override name = 'ValidationError';
}

export function invalid(expected: string, name: string, value: unknown): ValidationError {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return new ValidationError(`Expected ${expected} for ${name} but received ${describe(value)} of type ${type}`);
}

export function expectInteger(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = min === 1 && max === Infinity ? 'positive integer' :
      min === 0 && max === Infinity ? 'non-negative integer' :
        Number.isFinite(max) ? `integer between ${min} and ${max}` : `integer ≥ ${min}`;
    throw invalid(range, name, value);
  }
  return value;
}

export function expectNumber(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min === 0 && max === Infinity ? 'non-negative number' :
      Number.isFinite(min) && Number.isFinite(max) ? `number between ${min} and ${max}` :
        Number.isFinite(min) ? `number ≥ ${min}` : Number.isFinite(max) ? `number ≤ ${max}` : 'finite number';
    throw invalid(range, name, value);
  }
  return value;
}

export function expectOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`one of ${allowed.map((a) => `'${a}'`).join(', ')}`, name, value);
  }
  return value as T;
}

export function expectString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid('non-empty string', name, value);
  return value;
}

export function expectBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalid('boolean', name, value);
  return value;
}
