// `--weights PATH` checked before a run starts: the file exists, is a readable regular file, and
// its tensors fit ResNet-50 by name and shape (the native core's strict loader says which do not).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Model, type WeightsReport } from '../native';

/** Throws a message naming the file and the fix unless `file` is a readable regular file. */
export function checkWeightsPath(file: string): string {
  const resolved = path.resolve(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(resolved);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new Error(`Weights file ${resolved} does not exist; pass --weights imagenet, a torchvision .pth/.safetensors file, or none.`, { cause: err });
    }
    throw new Error(`Cannot read weights file ${resolved}: ${(err as Error).message}`, { cause: err });
  }
  if (stat.isDirectory()) throw new Error(`Weights path ${resolved} is a folder; give the .pth or .safetensors file inside it.`);
  if (!stat.isFile()) throw new Error(`Weights path ${resolved} is not a regular file; give a .pth or .safetensors file.`);
  if (stat.size === 0) throw new Error(`Weights file ${resolved} is empty (an interrupted copy?); copy or download it again.`);
  try {
    fs.accessSync(resolved, fs.constants.R_OK);
  } catch {
    throw new Error(`Weights file ${resolved} is not readable by this user; fix its permissions (chmod a+r) or copy it somewhere readable.`);
  }
  return resolved;
}

/** Loads `file` into a throw-away CPU ResNet-50 (2-class head, as training builds): what training would load. */
export async function checkWeightsFile(file: string): Promise<WeightsReport & { file: string }> {
  const resolved = checkWeightsPath(file);
  const model = await Model.create({ device: 'cpu' });
  try {
    return { file: resolved, ...(await model.loadWeights(resolved)) };
  } finally {
    model.dispose();
  }
}
