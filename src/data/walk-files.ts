// Lists every regular file under a folder (relative, `/`-separated, sorted) so indexing does not
// depend on directory order or on the platform's path separator.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files the indexer never reports: hidden files, READMEs and its own outputs. */
export function isIgnoredFile(name: string): boolean {
  return name.startsWith('.') || /^readme(\..*)?$/i.test(name) || /^(manifest|split)[\w.-]*\.(json|csv)$/i.test(name)
    || /^(sources\.tsv|synth\.json)$/i.test(name) || name === 'Thumbs.db';
}

export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (dir: string, rel: string): Promise<void> => {
    const items = await fs.promises.readdir(dir, { withFileTypes: true });
    for (const item of items) {
      if (item.name.startsWith('.')) continue;
      const relPath = rel ? `${rel}/${item.name}` : item.name;
      if (item.isDirectory()) await visit(path.join(dir, item.name), relPath);
      else if (item.isFile() && !isIgnoredFile(item.name)) out.push(relPath);
    }
  };
  await visit(root, '');
  return out.sort();
}
