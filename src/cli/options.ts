// Helpers every command module shares: options declared as data, number, choice and magnification
// parsing with src/util/expect.ts's messages naming the flag, and the action wrapper that turns
// errors into one line. Parsing happens in the actions (not commander's argParser), so a bad value
// reads "Expected … for --flag but received …" like every other validation error.
import type { Command } from 'commander';
import { type Magnification, normaliseMagnification } from '../data';
import { expectOneOf, invalid } from '../util/expect';

export interface OptionSpec {
  flags: string;
  description: string;
  defaultValue?: string | boolean;
}

export function addOptions(cmd: Command, specs: readonly OptionSpec[]): Command {
  for (const s of specs) {
    if (s.defaultValue === undefined) cmd.option(s.flags, s.description);
    else cmd.option(s.flags, s.description, s.defaultValue);
  }
  return cmd;
}

/** Parses a CLI number; the message names the flag and what it expects. */
export function num(flag: string, v: string | undefined, integer = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw invalid(integer ? 'integer' : 'number', flag, v);
  return n;
}

/** A flag with a fixed set of values, taken from where they are defined (e.g. TRAINABLE_POLICIES). */
export function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  return v === undefined ? undefined : expectOneOf(v, flag, allowed);
}

export function parseMagnifications(v: string | undefined): Magnification[] | undefined {
  if (!v) return undefined;
  return v.split(',').map((raw) => normaliseMagnification(raw) ?? (() => { throw invalid('40X, 100X, 200X or 400X (comma-separated)', '--mag', raw); })());
}

/** Runs an action; errors become one line on stderr and exit code 1, never a stack trace. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`histoscope: ${(err as Error).message.split('\n')[0]}\n`);
      process.exitCode = 1;
    }
  };
}
