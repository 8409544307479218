// The weights tests' fixtures: torch.save files from test/fixtures/make_weight_files.py, and a
// catalogue entry for the small one so downloads are checked against its real sha256.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WeightsEntry } from '../../src/weights';
import { makePythonFixtures } from '../helpers/python-fixtures';

let made: string | null | undefined;

/** The fixture folder (tiny.pth, resnet50.pth, resnet18.pth), or null when torch is absent (said once). */
export function weightFixtures(): string | null {
  if (made === undefined) made = makePythonFixtures('make_weight_files.py', 'weights fixtures');
  return made;
}

/** The bytes the test server serves: tiny.pth, or random bytes where torch is absent (downloads do not read them). */
export function servedBytes(): Buffer {
  const dir = weightFixtures();
  return dir ? fs.readFileSync(path.join(dir, 'tiny.pth')) : randomBytes(262_818);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function entryFor(data: Buffer, file = 'resnet50-fixture.pth', id = 'fixture-v1'): WeightsEntry {
  return { id, file, torchvisionName: 'Fixture.V1', sha256: sha256(data), bytes: data.length, description: 'test fixture' };
}
