// Command-line inputs → image files, and reading them under the input policy the web API uses
// (src/data/image-input-policy.ts). Plain files as given (a missing one becomes an error row
// later, not a crash now); folders walked recursively, following symbolic links (a broken one is
// reported, a loop is walked once); quoted globs (`'slides/**/*.png'`) expanded here because
// Node 20 has no fs.glob and Windows shells do not expand them. Named pipes, devices and sockets
// are refused without being opened (opening a pipe can wait forever for a writer); an already
// open descriptor such as bash's `<(cat img.png)` (/dev/fd/N) is read as a stream, bounded in
// bytes and time.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { isIgnoredFile, listFiles } from '../data';
import { checkImageInput, MAX_INPUT_BYTES, megabytes, megapixels } from '../data/image-input-policy';

const IMAGE_EXTENSION = /\.(png|jpe?g|tiff?)$/i;
const GLOB_CHARS = /[*?[]/;
/** `/dev/fd/N`, `/proc/self/fd/N` and `/dev/stdin`: descriptors this process already holds. */
const DESCRIPTOR_PATH = /^\/(?:dev\/fd|proc\/self\/fd)\/(\d+)$/;

export interface ExpandedInputs {
  files: string[];
  /** Inputs that matched nothing or cannot be read, with why (for the error rows of the output). */
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

/** Image-named entries under a folder, through symbolic links; broken links become problems. */
async function walkFolder(root: string): Promise<ExpandedInputs> {
  const found: string[] = [];
  const unmatched: ExpandedInputs['unmatched'] = [];
  const visited = new Set<string>();
  const visit = async (dir: string): Promise<void> => {
    const real = await fs.promises.realpath(dir);
    if (visited.has(real)) return; // a link back up the tree
    visited.add(real);
    for (const item of await fs.promises.readdir(dir, { withFileTypes: true })) {
      if (item.name.startsWith('.') || isIgnoredFile(item.name)) continue;
      const full = path.join(dir, item.name);
      const kind = item.isSymbolicLink() ? await fs.promises.stat(full).catch(() => undefined) : item;
      if (!kind) {
        if (IMAGE_EXTENSION.test(item.name)) unmatched.push({ input: full, reason: brokenLink(full) });
      } else if (kind.isDirectory()) await visit(full);
      // Special files named like images are listed, and refused with a reason when read.
      else if (IMAGE_EXTENSION.test(item.name)) found.push(full);
    }
  };
  await visit(root);
  return { files: found.sort(), unmatched };
}

function brokenLink(file: string): string {
  let target = '';
  try {
    target = ` to ${fs.readlinkSync(file)}`;
  } catch {
    // not a link after all
  }
  return `The file ${file} is a symbolic link${target}, which does not exist.`;
}

export async function expandInputs(inputs: readonly string[]): Promise<ExpandedInputs> {
  const files: string[] = [];
  const unmatched: ExpandedInputs['unmatched'] = [];
  for (const input of inputs) {
    const stat = fs.statSync(input, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      const walked = await walkFolder(input);
      if (walked.files.length === 0 && walked.unmatched.length === 0) unmatched.push({ input, reason: `The folder ${input} holds no PNG, JPEG or TIFF files.` });
      files.push(...walked.files);
      unmatched.push(...walked.unmatched);
    } else if (!stat && GLOB_CHARS.test(input) && !fs.lstatSync(input, { throwIfNoEntry: false })) {
      const found = await expandGlob(input);
      if (found.length === 0) unmatched.push({ input, reason: `The pattern ${input} matches no files.` });
      files.push(...found);
    } else {
      files.push(input);
    }
  }
  return { files: [...new Set(files)], unmatched };
}

function descriptorOf(file: string): number | undefined {
  if (file === '/dev/stdin') return 0;
  const m = DESCRIPTOR_PATH.exec(file);
  return m ? Number(m[1]) : undefined;
}

/** A file that can be read again by its path (not a descriptor, a pipe or a device). */
export function isPlainFile(file: string): boolean {
  return descriptorOf(file) === undefined && fs.statSync(file, { throwIfNoEntry: false })?.isFile() === true;
}

function specialKind(stat: fs.Stats): string | undefined {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isDirectory()) return 'a folder';
  return undefined;
}

/** Why a path cannot be read as an image file, decided without opening it; undefined when it can. */
export function inputProblem(file: string): string | undefined {
  const fd = descriptorOf(file);
  const link = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!link) return `The file ${file} does not exist.`;
  let stat: fs.Stats;
  try {
    stat = fd !== undefined ? fs.fstatSync(fd) : fs.statSync(file);
  } catch {
    return fd !== undefined ? `The descriptor ${file} is not open in this process.` : brokenLink(file);
  }
  const kind = specialKind(stat);
  if (fd !== undefined && (stat.isFIFO() || stat.isSocket() || stat.isFile())) return undefined; // a shell's <(…) or redirect
  if (kind) {
    return `The input ${file} is ${kind}, not an image file; it was not opened, since reading it could wait forever. ` +
      'Pass the image file itself (or `<(cat FILE)` from bash).';
  }
  return undefined;
}

export interface ReadInputOptions {
  maxBytes?: number;
  maxPixels?: number;
  /** How long a pipe may stay silent before it is given up (default 30 s). */
  streamTimeoutMs?: number;
}

/** An open pipe's bytes, up to maxBytes + 1 (so an oversized input is noticed), or a sentence why not. */
function readStream(fd: number, file: string, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(() => finish(new Error(`Nothing more arrived from ${file} for ${timeoutMs / 1000} s; it was given up.`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) return finish();
      timer.refresh();
    });
    socket.on('end', () => finish());
    socket.on('error', (err) => finish(new Error(`${file} could not be read (${err.message.split('\n')[0]}).`)));
  });
}

/**
 * Reads an input under the image policy: the bytes of a PNG or JPEG within the byte and pixel
 * limits, or an Error whose message is one sentence naming the file.
 */
export async function readInputFile(file: string, options: ReadInputOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_INPUT_BYTES;
  const problem = inputProblem(file);
  if (problem) throw new Error(problem);
  const fd = descriptorOf(file);
  let bytes: Buffer;
  const stat = fd !== undefined ? fs.fstatSync(fd) : fs.statSync(file);
  if (stat.isFile() && stat.size > maxBytes) {
    throw new Error(`The file ${file} is ${megabytes(stat.size)}, above the limit of ${megabytes(maxBytes)}.`);
  }
  try {
    bytes = fd !== undefined && !stat.isFile()
      ? await readStream(fd, file, maxBytes, options.streamTimeoutMs ?? 30_000)
      : await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code ? `The file ${file} could not be read (${code}).` : (err as Error).message, { cause: err });
  }
  const verdict = await checkImageInput(bytes, { maxBytes, maxPixels: options.maxPixels });
  if (verdict.ok) return bytes;
  switch (verdict.problem) {
    case 'empty':
      throw new Error(`The file ${file} is empty (0 bytes).`);
    case 'too-large':
      throw new Error(`The input ${file} is larger than the limit of ${megabytes(verdict.maxBytes)}.`);
    case 'not-accepted':
      throw new Error(`The file ${file} is not an image this program accepts: it is ${verdict.what}, judged by its content, not its name. ` +
        'Only PNG and JPEG images are accepted.');
    case 'unreadable-header':
    case 'no-size':
      throw new Error(`The file ${file} is a damaged ${verdict.format.toUpperCase()}: its header declares no readable image size.`);
    case 'too-many-pixels':
      throw new Error(`The file ${file} is ${verdict.width} × ${verdict.height} pixels (${megapixels(verdict.width * verdict.height)}), ` +
        `above the limit of ${megapixels(verdict.maxPixels)}.`);
  }
}
