import { expect } from 'chai';

import { allDihedral, dihedral, DIHEDRAL_COUNT, type RgbImage } from '../../src/infer';

/** A 3×2 image whose pixels are all different: value = 10·index on every channel. */
function numbered(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.fill(10 * (i + 1), i * 3, i * 3 + 3);
  return { data, width, height };
}

const grid = (img: RgbImage): number[][] =>
  Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 3] / 10));

describe('dihedral transforms', () => {
  const img = numbered(3, 2); // [[1,2,3],[4,5,6]]

  it('rotates clockwise and mirrors as documented', () => {
    expect(grid(dihedral(img, 0))).to.deep.equal([[1, 2, 3], [4, 5, 6]]);
    expect(grid(dihedral(img, 1))).to.deep.equal([[4, 1], [5, 2], [6, 3]]);
    expect(grid(dihedral(img, 2))).to.deep.equal([[6, 5, 4], [3, 2, 1]]);
    expect(grid(dihedral(img, 3))).to.deep.equal([[3, 6], [2, 5], [1, 4]]);
    expect(grid(dihedral(img, 4))).to.deep.equal([[3, 2, 1], [6, 5, 4]]);
    expect(grid(dihedral(img, 6))).to.deep.equal([[4, 5, 6], [1, 2, 3]]);
  });

  it('gives eight different views of an asymmetric square, each a permutation of its pixels', () => {
    const square = numbered(4, 4);
    const views = allDihedral(square);
    expect(views).to.have.length(DIHEDRAL_COUNT);
    expect(new Set(views.map((v) => Buffer.from(v.data).toString('hex'))).size).to.equal(8);
    const sorted = (d: Uint8Array): string => Buffer.from([...d].sort((a, b) => a - b)).toString('hex');
    for (const v of views) expect(sorted(v.data)).to.equal(sorted(square.data));
  });

  it('returns to the start after four quarter turns, and the set of views is closed under rotation', () => {
    const square = numbered(5, 5);
    let r = square;
    for (let i = 0; i < 4; i++) r = dihedral(r, 1);
    expect(Buffer.from(r.data).equals(Buffer.from(square.data))).to.equal(true);
    const key = (v: RgbImage): string => Buffer.from(v.data).toString('hex');
    const views = new Set(allDihedral(square).map(key));
    const ofRotated = new Set(allDihedral(dihedral(square, 1)).map(key));
    expect([...ofRotated].every((k) => views.has(k))).to.equal(true);
  });

  it('rejects an index outside 0..7', () => {
    expect(() => dihedral(img, 8)).to.throw(/0\.\.7/);
  });
});
