import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { formatSummary, indexDataset, readManifest, summarizeManifest, writeManifest } from '../../src/data';
import { samplePath, tmpDir } from './helpers';

let shade = 0;
/** Writes a small PNG; each call a different colour, so only deliberate copies share content. */
async function png(file: string, w = 32, h = 20): Promise<Buffer> {
  const buf = await sharp({ create: { width: w, height: h, channels: 3, background: { r: 200, g: 100, b: shade++ } } }).png().toBuffer();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, buf);
  return buf;
}

describe('indexDataset', () => {
  it('indexes a re-packed tree, skipping bad files with reasons and warning on folder/name conflicts', async () => {
    const root = tmpDir('index');
    await png(path.join(root, '40X/benign/SOB_B_A-14-22549AB-40-001.png'));
    await png(path.join(root, '40X/benign/SOB_B_A-14-22549CD-40-002.png'), 40, 30);
    // Folder says 100X and benign; the name says 40X malignant: the name wins, a warning is raised.
    await png(path.join(root, '100X/benign/SOB_M_DC-14-13412-40-001.png'));
    // The known BreakHis quirk: one patient ID under two subtypes.
    await png(path.join(root, 'flat/SOB_M_LC-14-13412-100-001.png'));
    const good = await png(path.join(root, 'flat/SOB_M_MC-14-10147-200-003.png'));
    fs.writeFileSync(path.join(root, 'flat/SOB_M_MC-14-10147-200-004.png'), good); // identical copy
    fs.writeFileSync(path.join(root, 'flat/SOB_M_MC-14-10147-200-005.png'), good.subarray(0, good.length - 30)); // truncated
    fs.writeFileSync(path.join(root, 'flat/SOB_M_MC-14-10147-200-006.png'), ''); // zero bytes
    fs.writeFileSync(path.join(root, 'flat/SOB_M_MC-14-10147-200-007.png'), 'just text'); // not an image
    fs.writeFileSync(path.join(root, 'notes.txt'), 'hello');
    const corrupt = Buffer.from(good);
    corrupt.fill(0x55, 40, corrupt.length - 20);
    fs.writeFileSync(path.join(root, 'flat/SOB_M_MC-14-10147-200-008.png'), corrupt);
    await png(path.join(root, 'flat/holiday.png'));
    fs.writeFileSync(path.join(root, 'README.md'), 'ignored');

    const m = await indexDataset(root, { concurrency: 3 });
    expect(m.entries.map((e) => e.path)).to.deep.equal([
      '100X/benign/SOB_M_DC-14-13412-40-001.png',
      '40X/benign/SOB_B_A-14-22549AB-40-001.png',
      '40X/benign/SOB_B_A-14-22549CD-40-002.png',
      'flat/SOB_M_LC-14-13412-100-001.png',
      'flat/SOB_M_MC-14-10147-200-003.png',
      'flat/SOB_M_MC-14-10147-200-004.png',
    ]);
    const e = m.entries[2];
    expect(e).to.include({ cls: 'benign', subtype: 'A', patient: '14-22549CD', caseNumber: '14-22549', magnification: '40X', width: 40, height: 30 });
    expect(e.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(e.bytes).to.equal(fs.statSync(path.join(root, e.path)).size);
    const kinds = Object.fromEntries(m.skipped.map((s) => [s.path, s.kind]));
    expect(kinds).to.deep.equal({
      'flat/SOB_M_MC-14-10147-200-005.png': 'corrupt',
      'flat/SOB_M_MC-14-10147-200-006.png': 'empty',
      'flat/SOB_M_MC-14-10147-200-007.png': 'not-image',
      'flat/SOB_M_MC-14-10147-200-008.png': 'corrupt',
      'flat/holiday.png': 'bad-name',
      'notes.txt': 'not-image',
    });
    for (const s of m.skipped) expect(s.reason).to.be.a('string').with.length.above(10);
    const warnings = m.warnings.join('\n');
    expect(warnings).to.match(/folder says 100X, name says 40X/).and.match(/folder says benign, name says malignant/);
    expect(m.warnings.filter((w) => /identical content/.test(w))).to.have.length(1);
    expect(warnings).to.match(/identical content in 2 files: flat\/SOB_M_MC-14-10147-200-003.png, flat\/SOB_M_MC-14-10147-200-004.png/);
    expect(warnings).to.match(/patient 14-13412 appears under several subtypes: DC .*LC/);

    const summary = summarizeManifest(m);
    expect(summary.imagesByClassMag.benign['40X']).to.equal(2);
    expect(summary.patientsByClass).to.deep.equal({ benign: 2, malignant: 3 });
    expect(summary.patientIds).to.equal(4);
    expect(summary.skippedByKind).to.deep.equal({ corrupt: 2, empty: 1, 'not-image': 2, 'bad-name': 1 });
    expect(formatSummary(summary)).to.match(/Images: 6 found \/ 7909/).and.match(/benign\s+2\/625/);

    const out = path.join(tmpDir('index-out'), 'manifest.json');
    await writeManifest(out, m);
    expect(readManifest(out).hash).to.equal(m.hash);
    const csv = fs.readFileSync(out.replace('.json', '.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).to.equal('path,cls,subtype,patient,caseNumber,magnification,sequence,width,height,bytes,sha256');
    expect(csv).to.have.length(7);
  });

  it('fails clearly on a missing folder', async () => {
    let message = '';
    await indexDataset('/nonexistent/breakhis').catch((err: Error) => { message = err.message; });
    expect(message).to.match(/does not exist; pass the folder/);
  });

  it('indexes the real BreakHis sample with the expected counts', async function () {
    if (!fs.existsSync(samplePath)) {
      console.log(`skipped: BreakHis sample ${samplePath} absent`);
      this.skip();
    }
    const t0 = Date.now();
    const m = await indexDataset(samplePath, { concurrency: 2 });
    const secs = (Date.now() - t0) / 1000;
    console.log(`      indexed ${m.entries.length} sample images in ${secs.toFixed(1)} s (${(m.entries.length / secs).toFixed(0)}/s)`);
    const s = summarizeManifest(m);
    expect(s.images).to.equal(312);
    expect(s.skipped).to.equal(0);
    expect(s.imagesByClassMag).to.deep.equal({
      benign: { '40X': 9, '100X': 98, '200X': 17, '400X': 3 },
      malignant: { '40X': 30, '100X': 111, '200X': 19, '400X': 25 },
    });
    expect(s.sizes['500x328']).to.equal(27);
    expect(m.warnings).to.deep.equal([]);
  });
});
