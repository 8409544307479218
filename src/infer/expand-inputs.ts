// Command-line inputs → image files: plain files as given (a missing one becomes an error row
// later, not a crash now), folders walked recursively, and quoted globs (`'slides/**/*.png'`)
// expanded here because Node 20 has no fs.glob and Windows shells do not expand them.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { listFiles } from '../data';

const IMAGE_EXTENSION = /\.(png|jpe?g|tiff?)$/i;
const GLOB_CHARS = /[*?[]/;

export interface ExpandedInputs {
  files: string[];
  /** Inputs that matched nothing, with why (for the error rows of the output). */
  unmatched: { input: string; reason: string }[];
}

/** Glob → RegExp over `/`-separated paths: `**` crosses folders, `*` and `?` do not. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function expandGlob(pattern: string): Promise<string[]> {
  const parts = pattern.split(/[\\/]/);
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  const baseParts = parts.slice(0, firstGlob);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  if (!fs.existsSync(base) || !fs.statSync(base).isDirectory()) return [];
  const matcher = globToRegExp(parts.slice(firstGlob).join('/'));
  return (await listFiles(base)).filter((rel) => matcher.test(rel)).map((rel) => (baseParts.length === 0 ? rel : path.join(base, rel)));
}

export async function expandInputs(inputs: readonly string[]): Promise<ExpandedInputs> {
  const files: string[] = [];
  const unmatched: ExpandedInputs['unmatched'] = [];
  for (const input of inputs) {
    const stat = fs.statSync(input, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      const found = (await listFiles(input)).filter((rel) => IMAGE_EXTENSION.test(rel)).map((rel) => path.join(input, rel));
      if (found.length === 0) unmatched.push({ input, reason: `The folder ${input} holds no PNG, JPEG or TIFF files.` });
      files.push(...found);
    } else if (!stat && GLOB_CHARS.test(input)) {
      const found = await expandGlob(input);
      if (found.length === 0) unmatched.push({ input, reason: `The pattern ${input} matches no files.` });
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return { files: [...new Set(files)], unmatched };
}
