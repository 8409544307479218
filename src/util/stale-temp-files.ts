// Temporary files and folders that a killed writer leaves behind (kill -9, power loss): found by
// the names their writers give them, and removed only when the writer's process is gone.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The temp names Histoscope's writers use; `pid` is the writer's process id. */
const TEMP_NAMES: { writer: string; re: RegExp; pid: number | null }[] = [
  // src/util/atomic-write.ts: `.<name>.<pid>.<ms>.<random>.tmp`
  { writer: 'atomic write', re: /^\..+\.(\d+)\.\d+\.[0-9a-z]*\.tmp$/, pid: 1 },
  // src/train/promote-run.ts: `.<slot>.new-<pid>-<ms>` and `.<slot>.old-<pid>-<ms>` folders.
  { writer: 'promote', re: /^\..+\.(?:new|old)-(\d+)-\d+$/, pid: 1 },
  // native/core/checkpoint.cc: `<file>.tmp-<pid>-<object>`; before it named the pid, `<file>.tmp-<object>`.
  { writer: 'checkpoint', re: /^.+\.tmp-(\d+)-\d+$/, pid: 1 },
  { writer: 'checkpoint', re: /^.+\.tmp-\d+$/, pid: null },
];

/**
 * A temp file without a pid counts as abandoned once nobody has written to it for this long; a
 * checkpoint save writes continuously and renames its file within seconds.
 */
export const PIDLESS_STALE_MS = 5 * 60_000;

/** The pid in a temp name (`null`: a temp name without one), or undefined when it is no temp name. */
export function tempWriterPid(name: string): number | null | undefined {
  for (const t of TEMP_NAMES) {
    const m = t.re.exec(name);
    if (m) return t.pid === null ? null : Number(m[t.pid]);
  }
  return undefined;
}

/** Whether a process with this id exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface StaleTempOptions {
  /** Folder levels below `dir` also searched (0: `dir` only). */
  depth?: number;
  /** Now, for the age of pid-less temp files. */
  now?: number;
  /** Called for an abandoned temp before it is removed; return true when it was handled instead. */
  claim?: (file: string) => boolean;
}

/** Paths of abandoned temp files and folders under `dir`: their writer's process is gone. */
export function findStaleTemps(dir: string, o: StaleTempOptions = {}): string[] {
  const found: string[] = [];
  const now = o.now ?? Date.now();
  const walk = (d: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const file = path.join(d, e.name);
      if (e.isSymbolicLink()) continue;
      const pid = tempWriterPid(e.name);
      if (pid === undefined) {
        if (e.isDirectory() && depth > 0) walk(file, depth - 1);
        continue;
      }
      if (pid === null ? ageMs(file, now) >= PIDLESS_STALE_MS : !processAlive(pid)) found.push(file);
    }
  };
  walk(dir, o.depth ?? 0);
  return found;
}

function ageMs(file: string, now: number): number {
  try {
    return now - fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** Removes the abandoned temp files and folders under `dir`; returns what was removed. */
export function removeStaleTemps(dir: string, o: StaleTempOptions = {}): string[] {
  const removed: string[] = [];
  for (const file of findStaleTemps(dir, o)) {
    if (o.claim?.(file)) continue;
    try {
      fs.rmSync(file, { recursive: true, force: true });
      removed.push(file);
    } catch {
      // Another cleaner got there first, or it is not ours to remove: leave it.
    }
  }
  return removed;
}
