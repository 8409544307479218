import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { generateSynthetic, indexDataset, makeSplit, parseBreakhisName, renderSyntheticPng, SUBTYPES, summarizeManifest, syntheticPatients } from '../../src/data';
import { tmpDir } from './helpers';

describe('generateSynthetic', () => {
  it('is byte-identical for a seed and differs across seeds', async () => {
    const [p] = syntheticPatients(2, 11);
    const a = await renderSyntheticPng(p, '100X', 1, 700, 460, 11);
    const b = await renderSyntheticPng(p, '100X', 1, 700, 460, 11);
    const c = await renderSyntheticPng(syntheticPatients(2, 12)[0], '100X', 1, 700, 460, 12);
    expect(a.equals(b)).to.equal(true);
    expect(a.equals(c)).to.equal(false);
    const meta = await sharp(a).metadata();
    expect(meta).to.include({ format: 'png', width: 700, height: 460, channels: 3 });
  });

  it('writes a valid BreakHis tree with README, both classes, all subtypes and magnifications; indexes and splits', async () => {
    const out = path.join(tmpDir('synth'), 'data');
    const t0 = Date.now();
    const r = await generateSynthetic(out, { patients: 10, imagesPerPatient: 1, width: 140, height: 92, seed: 4 });
    const secs = (Date.now() - t0) / 1000;
    expect(r.images).to.equal(40);
    expect(fs.readFileSync(path.join(out, 'README.md'), 'utf8')).to.match(/^SYNTHETIC IMAGES - NOT TISSUE/);
    const m = await indexDataset(out);
    expect(m.skipped).to.deep.equal([]);
    expect(m.warnings.filter((w) => /folder says/.test(w))).to.deep.equal([]);
    for (const e of m.entries) expect(parseBreakhisName(path.basename(e.path)).ok).to.equal(true);
    expect(m.entries[0].path).to.match(/^BreaKHis_v1\/histology_slides\/breast\/(benign|malignant)\/SOB\/[a-z_]+\/SOB_[BM]_[A-Z]+_[\d-]+[A-Z]*\/\d+X\//);
    const s = summarizeManifest(m);
    expect(s.imagesByClass).to.deep.equal({ benign: 20, malignant: 20 });
    for (const t of SUBTYPES) expect(s.imagesBySubtype[t.code], t.code).to.be.above(0);
    for (const mag of ['40X', '100X', '200X', '400X'] as const) expect(s.imagesByClassMag.malignant[mag]).to.equal(5);
    const split = makeSplit(m, { seed: 1 });
    expect(split.splits[0].parts.test.patients.length).to.be.above(0);
    // Re-running with the same settings keeps what is there (resume); other settings are refused.
    const again = await generateSynthetic(out, { patients: 10, imagesPerPatient: 1, width: 140, height: 92, seed: 4 });
    expect(again.kept).to.equal(40);
    let message = '';
    await generateSynthetic(out, { patients: 10, imagesPerPatient: 1, width: 140, height: 92, seed: 5 }).catch((e: Error) => { message = e.message; });
    expect(message).to.match(/other settings/);
    expect(secs).to.be.below(30);
  });

  it('draws malignant tiles with more nuclear area than benign, under varied stain', async () => {
    // Dark-purple (haematoxylin-rich) pixel fraction: a structural proxy, not a colour shift of the whole tile.
    const patients = syntheticPatients(16, 9);
    const frac: Record<string, number[]> = { benign: [], malignant: [] };
    for (const p of patients) {
      const { data } = await sharp(await renderSyntheticPng(p, '100X', 1, 350, 230, 9)).raw().toBuffer({ resolveWithObject: true });
      let dark = 0;
      for (let i = 0; i < data.length; i += 3) if (data[i] < 150 && data[i + 1] < 130) dark++;
      frac[p.cls].push(dark / (data.length / 3));
    }
    const maxBenign = Math.max(...frac.benign);
    const minMalignant = Math.min(...frac.malignant);
    expect(minMalignant, JSON.stringify(frac)).to.be.above(maxBenign);
  });

  it('rejects bad options with a clear message', async () => {
    let message = '';
    await generateSynthetic(tmpDir('synth-bad'), { patients: 1, imagesPerPatient: 1 }).catch((e: Error) => { message = e.message; });
    expect(message).to.match(/Expected integer between 2 and 10000 for patients but received/);
  });
});
