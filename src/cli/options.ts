// Helpers every command module shares: options declared as data, number and magnification
// parsing with messages naming the flag, and the action wrapper that turns errors into one line.
import type { Command } from 'commander';
import { MAGNIFICATIONS, type Magnification } from '../data';

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
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`${flag} expects ${integer ? 'an integer' : 'a number'}, got "${v}".`);
  return n;
}

export function parseMagnifications(v: string | undefined): Magnification[] | undefined {
  if (!v) return undefined;
  return v.split(',').map((raw) => {
    const m = (raw.trim().toUpperCase().replace(/X?$/, 'X')) as Magnification;
    if (!MAGNIFICATIONS.includes(m)) throw new Error(`--mag expects 40X, 100X, 200X or 400X (comma-separated), got "${raw}".`);
    return m;
  });
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
