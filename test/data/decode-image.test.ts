import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../../src/data';
import { tmpDir } from './helpers';

const px = (d: Buffer, w: number, x: number, y: number): number[] => [...d.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];

describe('decodeImage', () => {
  it('flattens RGBA PNG on white and resizes by squashing', async () => {
    // Left half opaque red, right half fully transparent.
    const raw = Buffer.alloc(40 * 20 * 4);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) raw.set([255, 0, 0, 255], (y * 40 + x) * 4);
    const png = await sharp(raw, { raw: { width: 40, height: 20, channels: 4 } }).png().toBuffer();
    const img = await decodeImage(png, { size: 8 });
    expect(img).to.include({ width: 8, height: 8, originalWidth: 40, originalHeight: 20 });
    expect(img.data.length).to.equal(8 * 8 * 3);
    expect(px(img.data, 8, 0, 0)).to.deep.equal([255, 0, 0]);
    expect(px(img.data, 8, 7, 7)).to.deep.equal([255, 255, 255]);
  });

  it('expands greyscale and reduces 16-bit to 8-bit RGB', async () => {
    const grey = await sharp(Buffer.alloc(16 * 16, 100), { raw: { width: 16, height: 16, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).to.equal(1);
    const g = await decodeImage(grey, { size: 4 });
    expect(px(g.data, 4, 1, 1)).to.deep.equal([100, 100, 100]);
    const sixteen = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 200, b: 30 } } }).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(sixteen).metadata()).depth).to.equal('ushort');
    const s = await decodeImage(sixteen, { size: 4 });
    expect(px(s.data, 4, 2, 2)).to.deep.equal([10, 200, 30]);
  });

  it('applies JPEG EXIF orientation', async () => {
    // Stored 40x20 with the left half black, right half white; orientation 6 = rotate 90° clockwise.
    const raw = Buffer.alloc(40 * 20 * 3, 255);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) raw.fill(0, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3);
    const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const img = await decodeImage(jpeg, { size: [20, 40] });
    expect(img).to.include({ originalWidth: 20, originalHeight: 40 });
    // After rotating clockwise, the stored left (black) half is on top.
    expect(px(img.data, 20, 10, 2)[0]).to.be.below(40);
    expect(px(img.data, 20, 10, 37)[0]).to.be.above(215);
  });

  it('centre-crops with fit "cover"', async () => {
    // 30x10: red | green | blue thirds. Cover-crop to a square keeps only the green middle.
    const raw = Buffer.alloc(30 * 10 * 3);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 30; x++) raw.set(x < 10 ? [255, 0, 0] : x < 20 ? [0, 255, 0] : [0, 0, 255], (y * 30 + x) * 3);
    const png = await sharp(raw, { raw: { width: 30, height: 10, channels: 3 } }).png().toBuffer();
    const cover = await decodeImage(png, { size: 5, fit: 'cover' });
    // Edges blend a little with the neighbouring thirds under resampling; red/blue stay minor.
    for (const x of [0, 2, 4]) {
      const [r, g, b] = px(cover.data, 5, x, 2);
      expect(g, `x=${x}`).to.be.above(220);
      expect(Math.max(r, b), `x=${x}`).to.be.below(40);
    }
    const fill = await decodeImage(png, { size: 6, fit: 'fill' });
    expect(px(fill.data, 6, 0, 2)).to.deep.equal([255, 0, 0]);
  });

  it('reads TIFF from a path', async () => {
    const dir = tmpDir('decode');
    const file = path.join(dir, 'x.tiff');
    await sharp({ create: { width: 12, height: 9, channels: 3, background: '#336699' } }).tiff().toFile(file);
    const img = await decodeImage(file, { size: 3 });
    px(img.data, 3, 1, 1).forEach((v, i) => expect(v).to.be.closeTo([0x33, 0x66, 0x99][i], 2));
  });

  it('enforces the pixel limit and names the file in errors', async () => {
    const png = await sharp({ create: { width: 200, height: 200, channels: 3, background: 'white' } }).png().toBuffer();
    await decodeImage(png, { size: 4, limitInputPixels: 40_000 });
    try {
      await decodeImage(png, { size: 4, limitInputPixels: 39_999 });
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).to.match(/^The uploaded file is larger than the pixel limit/);
    }
    const dir = tmpDir('decode');
    const file = path.join(dir, 'notes.png');
    fs.writeFileSync(file, 'not an image at all');
    await expectReject(decodeImage(file), new RegExp(`^The file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an image sharp can read \\(`));
    await expectReject(decodeImage(Buffer.from('hello'), { name: 'The upload "cat.gif"' }), /^The upload "cat.gif" is not an image sharp can read \(/);
    await expectReject(decodeImage(Buffer.alloc(0)), /^The uploaded file is empty/);
    await expectReject(decodeImage(path.join(dir, 'missing.png')), /does not exist/);
    await expectReject(decodeImage(png, { size: 0 }), /Expected integer between 1 and 8192 for image size but received 0/);
    // Truncated PNG: header fine, data cut.
    const big = await sharp({ create: { width: 300, height: 300, channels: 3, background: 'red' }, }).png({ compressionLevel: 0 }).toBuffer();
    await expectReject(decodeImage(big.subarray(0, big.length >> 1)), /not an image sharp can read/);
  });
});

async function expectReject(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.match(re);
    return;
  }
  expect.fail(`expected rejection matching ${re}`);
}
