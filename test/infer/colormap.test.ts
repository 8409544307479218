import { expect } from 'chai';

import { applyColormap, applyEvidenceColormap, blend, blendOver, EVIDENCE_LUT, quantiseMap, VIRIDIS_LUT } from '../../src/infer';

const at = (i: number): number[] => [...VIRIDIS_LUT.subarray(i * 3, i * 3 + 3)];
const near = (a: number[], b: number[], tol: number): boolean => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe('viridis colormap and overlay arithmetic', () => {
  it('matches matplotlib viridis at its ends and middle (#440154, #21918c, #fde725)', () => {
    expect(near(at(0), [0x44, 0x01, 0x54], 5), `0: ${at(0)}`).to.equal(true);
    expect(near(at(128), [0x21, 0x91, 0x8c], 5), `128: ${at(128)}`).to.equal(true);
    expect(near(at(255), [0xfd, 0xe7, 0x25], 5), `255: ${at(255)}`).to.equal(true);
  });

  it('gets lighter monotonically, so more attention always reads as brighter', () => {
    const luminance = (i: number): number => { const [r, g, b] = at(i); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    for (let i = 8; i < 256; i += 8) expect(luminance(i)).to.be.above(luminance(i - 8));
  });

  it('colours each value through the table', () => {
    const rgb = applyColormap(Uint8Array.from([0, 255]));
    expect([...rgb.subarray(0, 3)]).to.deep.equal(at(0));
    expect([...rgb.subarray(3, 6)]).to.deep.equal(at(255));
  });

  it('quantises 0..1 maps with clamping, NaN as 0', () => {
    expect([...quantiseMap(Float32Array.from([0, 0.5, 1, -2, 7, NaN]))]).to.deep.equal([0, 128, 255, 0, 255, 0]);
  });

  it('blends with the given opacity, and refuses mismatched sizes or opacities outside 0..1', () => {
    const image = Uint8Array.from([200, 100, 0]);
    const heat = Uint8Array.from([0, 100, 200]);
    expect([...blend(image, heat, 0)]).to.deep.equal([200, 100, 0]);
    expect([...blend(image, heat, 1)]).to.deep.equal([0, 100, 200]);
    expect([...blend(image, heat, 0.25)]).to.deep.equal([150, 100, 50]);
    expect(() => blend(image, Uint8Array.from([1]), 0.5)).to.throw(/one size/);
    expect(() => blend(image, heat, 1.5)).to.throw(/opacity/);
  });

  it('colours evidence with hues H&E never has: transparent at none, teal to yellow, brighter with more', () => {
    const rgba = applyEvidenceColormap(Uint8Array.from([0, 128, 255]));
    expect([rgba[3], rgba[7], rgba[11]]).to.deep.equal([0, 128, 255]);
    const lum = (i: number): number => 0.2126 * EVIDENCE_LUT[i * 3] + 0.7152 * EVIDENCE_LUT[i * 3 + 1] + 0.0722 * EVIDENCE_LUT[i * 3 + 2];
    for (let i = 8; i < 256; i += 8) expect(lum(i)).to.be.above(lum(i - 8));
    // Never purple or pink (haematoxylin, eosin), whose weakest channel is green: here green is
    // always well above the weaker of red and blue.
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = EVIDENCE_LUT.subarray(i * 3, i * 3 + 3);
      expect(g, `entry ${i}`).to.be.above(Math.min(r, b) + 50);
    }
  });

  it('lays an RGBA layer over an image by its alpha and the opacity', () => {
    const image = Uint8Array.from([200, 100, 0, 200, 100, 0]);
    const layer = Uint8Array.from([0, 100, 200, 255, 0, 100, 200, 0]);
    expect([...blendOver(image, layer, 1)]).to.deep.equal([0, 100, 200, 200, 100, 0]);
    expect([...blendOver(image, layer, 0.5)]).to.deep.equal([100, 100, 100, 200, 100, 0]);
    expect(() => blendOver(image, Uint8Array.from([1, 2, 3, 4]), 0.5)).to.throw(/one size/);
  });
});
