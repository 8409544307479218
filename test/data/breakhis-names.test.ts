import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { caseNumberOf, folderConflicts, formatBreakhisName, normaliseMagnification, parseBreakhisName } from '../../src/data';
import { samplePath } from './helpers';

describe('parseBreakhisName', () => {
  const good: [string, string, string, string, string, string, string][] = [
    // file, class, subtype, patient, case, magnification, sequence
    ['SOB_B_A-14-22549AB-40-001.png', 'benign', 'A', '14-22549AB', '14-22549', '40X', '001'],
    ['SOB_B_F-14-25197-100-001.png', 'benign', 'F', '14-25197', '14-25197', '100X', '001'],
    ['SOB_B_PT-14-29315EF-400-013.png', 'benign', 'PT', '14-29315EF', '14-29315', '400X', '013'],
    ['SOB_B_TA-14-19854C-100-007.png', 'benign', 'TA', '14-19854C', '14-19854', '100X', '007'],
    ['SOB_M_DC-14-2980-40-001.png', 'malignant', 'DC', '14-2980', '14-2980', '40X', '001'],
    ['SOB_M_LC-14-15570C-100-012.png', 'malignant', 'LC', '14-15570C', '14-15570', '100X', '012'],
    ['SOB_M_MC-14-19979C-200-002.png', 'malignant', 'MC', '14-19979C', '14-19979', '200X', '002'],
    ['SOB_M_PC-15-190EF-400-020.png', 'malignant', 'PC', '15-190EF', '15-190', '400X', '020'],
    // case variants
    ['sob_m_dc-14-2980-40-001.PNG', 'malignant', 'DC', '14-2980', '14-2980', '40X', '001'],
    ['SOB_B_A-14-22549ab-200-1.jpg', 'benign', 'A', '14-22549AB', '14-22549', '200X', '1'],
    ['SOB_M_PC-14-19440-100-003.tiff', 'malignant', 'PC', '14-19440', '14-19440', '100X', '003'],
  ];
  for (const [file, cls, subtype, patient, caseNumber, magnification, sequence] of good) {
    it(`parses ${file}`, () => {
      const r = parseBreakhisName(file);
      expect(r.ok, JSON.stringify(r)).to.equal(true);
      if (!r.ok) return;
      expect(r.name).to.include({ cls, subtype, patient, caseNumber, magnification, sequence, procedure: 'SOB' });
    });
  }

  const bad: [string, RegExp][] = [
    ['notes.txt', /extension \.txt/],
    ['SOB_B_A-14-22549AB-40-001', /no file extension/],
    ['CNB_B_A-14-22549AB-40-001.png', /procedure CNB/],
    ['SOB_X_A-14-22549AB-40-001.png', /class X/],
    ['SOB_B_XX-14-22549AB-40-001.png', /subtype code XX/],
    ['SOB_B_DC-14-22549AB-40-001.png', /DC is malignant/],
    ['SOB_M_A-14-22549AB-40-001.png', /A is benign/],
    ['SOB_B_A-14-22549AB-50-001.png', /magnification 50/],
    ['SOB_B_A-14-22549AB-40X-001.png', /does not match/],
    ['SOB_B_A_14-22549AB-40-001.png', /does not match/],
    ['SOB_B_A-14-22549AB-40.png', /does not match/],
    ['image (1).png', /does not match/],
  ];
  for (const [file, reason] of bad) {
    it(`rejects ${file} with a reason`, () => {
      const r = parseBreakhisName(file);
      expect(r.ok).to.equal(false);
      if (!r.ok) expect(r.reason).to.match(reason);
    });
  }

  it('round-trips formatBreakhisName', () => {
    const file = formatBreakhisName({ cls: 'malignant', subtype: 'MC', patient: '14-10147', magnification: '200X', sequence: 7 });
    expect(file).to.equal('SOB_M_MC-14-10147-200-007.png');
    const r = parseBreakhisName(file);
    expect(r.ok && r.name.patient).to.equal('14-10147');
  });

  it('derives case numbers', () => {
    expect(caseNumberOf('14-22549AB')).to.equal('14-22549');
    expect(caseNumberOf('14-22549G')).to.equal('14-22549');
    expect(caseNumberOf('14-22549')).to.equal('14-22549');
  });

  it('parses every real name in the BreakHis sample, agreeing with its folders', function () {
    if (!fs.existsSync(samplePath)) {
      console.log(`skipped: BreakHis sample ${samplePath} absent`);
      this.skip();
    }
    const files: string[] = (fs.readdirSync(samplePath, { recursive: true }) as string[]).filter((f) => f.endsWith('.png'));
    expect(files.length).to.equal(312);
    for (const f of files) {
      const rel = f.split(path.sep).join('/');
      const r = parseBreakhisName(path.basename(rel));
      expect(r.ok, rel).to.equal(true);
      if (r.ok) expect(folderConflicts(rel, r.name), rel).to.deep.equal([]);
    }
  });
});

describe('folderConflicts', () => {
  it('reports class, subtype, magnification and patient disagreements', () => {
    const r = parseBreakhisName('SOB_M_DC-14-2980-40-001.png');
    if (!r.ok) throw new Error('fixture');
    const conflicts = folderConflicts('benign/SOB/lobular_carcinoma/SOB_M_DC_14-2981/100X/SOB_M_DC-14-2980-40-001.png', r.name);
    expect(conflicts.join('\n')).to.match(/patient 14-2981/).and.match(/100X/);
    expect(folderConflicts('100X/benign/SOB_M_DC-14-2980-40-001.png', r.name).join('\n')).to.match(/benign/).and.match(/100X/);
    expect(folderConflicts('lobular_carcinoma/SOB_M_DC-14-2980-40-001.png', r.name).join('\n')).to.match(/subtype LC/);
    expect(folderConflicts('flat/SOB_M_DC-14-2980-40-001.png', r.name)).to.deep.equal([]);
  });
});

describe('magnification parsing: one parser, and the browser script agrees with it', () => {
  it('normalises what people type and refuses the rest', () => {
    for (const [raw, mag] of [['100X', '100X'], ['100x', '100X'], [' 40 ', '40X'], ['400', '400X']] as const) {
      expect(normaliseMagnification(raw), raw).to.equal(mag);
    }
    for (const raw of ['50X', '', 'X', '100XX', 'all', '40X,100X']) expect(normaliseMagnification(raw), raw).to.equal(undefined);
  });

  it('views/static/app.js reads the same magnification from a file name as parseBreakhisName', () => {
    // The page's script cannot import src/data, so it keeps a copy; this keeps the copy honest.
    const script = fs.readFileSync(path.resolve(__dirname, '../../views/static/app.js'), 'utf8');
    const source = /function magnificationFromName\(name\) \{[\s\S]*?\n {2}\}/.exec(script)?.[0];
    expect(source, 'magnificationFromName in app.js').to.be.a('string');
    const fromName = vm.runInNewContext(`(${source})`) as (name: string) => string | null;
    const names = ['SOB_B_A-14-22549AB-40-001.png', 'SOB_M_DC-14-2980-100-001.png', 'sob_m_dc-14-2980-200-001.JPG',
      'SOB_B_PT-14-29315EF-400-013.tif', 'SOB_M_DC-14-2980-50-001.png', 'SOB_M_DC-14-2980-40.png', 'photo.png', 'SOB_M_DC-14-2980-40-001.gif'];
    for (const name of names) {
      const parsed = parseBreakhisName(name);
      expect(fromName(name), name).to.equal(parsed.ok ? parsed.name.magnification : null);
    }
  });
});
