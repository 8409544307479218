// Runs `histoscope …args` in-process with the given command modules, capturing stdout, stderr and
// the exit code, so CLI tests check what a user sees without spawning a process.
import { Command } from 'commander';

export type RegisterCommands = (program: Command) => void;

export async function runCommands(register: RegisterCommands[], ...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('histoscope').exitOverride();
  for (const add of register) add(program);
  let out = '';
  let err = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}
