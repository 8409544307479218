import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CLASSES, loadSplit, MAGNIFICATIONS, makeSplit, type Manifest, manifestHash, PART_NAMES, proportionalQuotas, type SplitFile, writeManifest, writeSplit,
} from '../../src/data';
import { fakeManifest, tmpDir } from './helpers';

function patientsOf(m: Manifest): Record<string, string> {
  return Object.fromEntries(m.entries.map((e) => [e.patient, e.cls]));
}

function checkInvariants(m: Manifest, split: SplitFile): void {
  const cls = patientsOf(m);
  for (const fold of split.splits) {
    const seen = new Map<string, string>();
    for (const p of PART_NAMES) {
      for (const id of fold.parts[p].patients) {
        expect(seen.has(id), `${fold.name}: ${id} in ${seen.get(id)} and ${p}`).to.equal(false);
        seen.set(id, p);
      }
    }
  }
  if (split.kind === 'holdout' && !split.capPerClass) {
    // Every patient in exactly one part, with all its images.
    expect([...new Set(split.splits[0].parts.train.patients.concat(split.splits[0].parts.val.patients, split.splits[0].parts.test.patients))].sort())
      .to.deep.equal(Object.keys(cls).sort());
    const total = PART_NAMES.reduce((s, p) => s + split.splits[0].parts[p].images.length, 0);
    expect(total).to.equal(m.entries.length);
  }
}

describe('makeSplit (hold-out)', () => {
  it('is patient-wise and stratified within one patient of the target, over many seeds', () => {
    for (let seed = 0; seed < 60; seed++) {
      const nb = 3 + (seed % 22);
      const nm = 5 + ((seed * 7) % 54);
      const m = fakeManifest(nb, nm, seed, 4);
      const split = makeSplit(m, { seed });
      checkInvariants(m, split);
      const cls = patientsOf(m);
      for (const c of CLASSES) {
        const n = c === 'benign' ? nb : nm;
        for (const p of PART_NAMES) {
          const got = split.splits[0].parts[p].patients.filter((id) => cls[id] === c).length;
          expect(Math.abs(got - n * split.fractions[p]), `seed ${seed} ${c} ${p}`).to.be.at.most(1);
        }
      }
    }
  });

  it('is deterministic for a seed and changes with it', () => {
    const m = fakeManifest(24, 58, 1, 3);
    const a = makeSplit(m, { seed: 7 });
    const b = makeSplit(m, { seed: 7 });
    const c = makeSplit(m, { seed: 8 });
    expect(a.splits).to.deep.equal(b.splits);
    expect(a.splits).to.not.deep.equal(c.splits);
  });

  it('honours custom fractions and rejects ones that do not add up', () => {
    const m = fakeManifest(10, 20, 2, 2);
    const s = makeSplit(m, { fractions: { train: 0.6, val: 0.2, test: 0.2 } });
    expect(s.splits[0].parts.test.patients.length).to.equal(6);
    expect(() => makeSplit(m, { fractions: { train: 0.7, val: 0.2, test: 0.2 } })).to.throw(/Expected fractions that add up to 1 for split fractions but received train 0.7/);
    expect(() => makeSplit(m, { seed: -1 })).to.throw(/Expected non-negative integer for seed but received -1/);
  });

  it('by case keeps every slide ID of a case in one part', () => {
    for (let seed = 0; seed < 30; seed++) {
      const m = fakeManifest(12, 30, seed, 2);
      const split = makeSplit(m, { seed, groupBy: 'case' });
      checkInvariants(m, split);
      const partOfCase = new Map<string, string>();
      for (const p of PART_NAMES) {
        for (const img of split.splits[0].parts[p].images) {
          const e = m.entries.find((x) => x.path === img)!;
          const prev = partOfCase.get(e.caseNumber);
          expect(prev === undefined || prev === p, `case ${e.caseNumber} split across parts`).to.equal(true);
          partOfCase.set(e.caseNumber, p);
        }
      }
    }
  });

  it('caps images per class per magnification without dropping a patient', () => {
    for (let seed = 0; seed < 30; seed++) {
      const m = fakeManifest(8, 14, seed, 40);
      const cap = 40 + seed * 5;
      const split = makeSplit(m, { seed, capPerClass: cap });
      checkInvariants(m, split);
      const fold = split.splits[0];
      const uncapped = makeSplit(m, { seed }).splits[0];
      for (const p of PART_NAMES) expect(fold.parts[p].patients).to.deep.equal(uncapped.parts[p].patients);
      const byPath = new Map(m.entries.map((e) => [e.path, e]));
      for (const mag of MAGNIFICATIONS) {
        for (const c of CLASSES) {
          const available = m.entries.filter((e) => e.magnification === mag && e.cls === c).length;
          const kept = PART_NAMES.flatMap((p) => fold.parts[p].images).map((x) => byPath.get(x)!).filter((e) => e.magnification === mag && e.cls === c).length;
          expect(kept, `${mag} ${c}`).to.equal(Math.min(cap, available));
        }
      }
    }
  });

  it('shares a cap in proportion (largest remainder)', () => {
    expect(proportionalQuotas(10, [70, 15, 15])).to.deep.equal([7, 2, 1]);
    expect(proportionalQuotas(500, [700, 150, 150]).reduce((a, b) => a + b)).to.equal(500);
    expect(proportionalQuotas(3, [0, 0, 0])).to.deep.equal([0, 0, 0]);
  });
});

describe('makeSplit (k-fold)', () => {
  it('makes 5 stratified folds whose test parts partition the patients', () => {
    for (let seed = 0; seed < 20; seed++) {
      const m = fakeManifest(24, 58, seed, 2);
      const split = makeSplit(m, { seed, folds: 5 });
      expect(split.kind).to.equal('kfold');
      expect(split.splits).to.have.length(5);
      checkInvariants(m, split);
      const tests = split.splits.flatMap((f) => f.parts.test.patients);
      expect(tests.slice().sort()).to.deep.equal(Object.keys(patientsOf(m)).sort());
      const cls = patientsOf(m);
      for (const f of split.splits) {
        const benign = f.parts.test.patients.filter((p) => cls[p] === 'benign').length;
        expect(benign).to.be.within(4, 5);
        for (const p of PART_NAMES) expect(f.parts[p].patients.length, `${f.name} ${p}`).to.be.greaterThan(0);
      }
    }
  });
});

describe('split files', () => {
  it('round-trip and fail clearly on a changed manifest, overlap or a missing file', async () => {
    const dir = tmpDir('split');
    const m = fakeManifest(4, 6, 3, 2);
    m.root = path.join(dir, 'images');
    for (const e of m.entries) {
      fs.mkdirSync(path.dirname(path.join(m.root, e.path)), { recursive: true });
      fs.writeFileSync(path.join(m.root, e.path), 'x');
    }
    await writeManifest(path.join(dir, 'manifest.json'), m);
    const split = makeSplit(m, { seed: 1, manifestPath: 'manifest.json' });
    await writeSplit(path.join(dir, 'split.json'), split);
    const loaded = loadSplit(path.join(dir, 'split.json'));
    expect(loaded.entries('train').length).to.equal(split.splits[0].parts.train.images.length);
    expect(() => loaded.entries('test', 3)).to.throw(/fold 3 does not exist/);

    // Overlap: move a test patient into train as well.
    const overlapping = structuredClone(split);
    overlapping.splits[0].parts.train.patients.push(overlapping.splits[0].parts.test.patients[0]);
    await writeSplit(path.join(dir, 'bad.json'), overlapping);
    expect(() => loadSplit(path.join(dir, 'bad.json'))).to.throw(/in both train and test/);

    // Missing image.
    fs.rmSync(path.join(m.root, split.splits[0].parts.val.images[0]));
    expect(() => loadSplit(path.join(dir, 'split.json'))).to.throw(/missing under/);

    // A different manifest.
    const other = fakeManifest(4, 6, 4, 2);
    other.root = m.root;
    await writeManifest(path.join(dir, 'other.json'), { ...other, hash: manifestHash(other.entries) });
    expect(() => loadSplit(path.join(dir, 'split.json'), { manifestPath: path.join(dir, 'other.json') })).to.throw(/different manifest/);

    // An edited manifest.
    const edited = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    edited.entries.pop();
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(edited));
    expect(() => loadSplit(path.join(dir, 'split.json'))).to.throw(/edited after indexing/);
    expect(() => loadSplit(path.join(dir, 'nope.json'))).to.throw(/Cannot read split file/);
  });
});
