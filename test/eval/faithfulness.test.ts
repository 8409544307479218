// Deletion/insertion faithfulness on a constructed case where the decisive region is known: a
// "model" whose probability is the redness of one 16×16 square. A map on that square must beat
// the random order on both curves; a map on another square must not.
import { expect } from 'chai';

import { blurred, curveArea, faithfulness, meanScores, rankPixels } from '../../src/eval';

const SIZE = 64;
const inSquare = (x: number, y: number): boolean => x >= 40 && x < 56 && y >= 8 && y < 24;

function image(): Uint8Array {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) data.set(inSquare(x, y) ? [250, 40, 40] : [90, 90, 120], 3 * (y * SIZE + x));
  }
  return data;
}

/** Mean redness inside the square: the only thing this model looks at. */
async function redness(images: readonly Uint8Array[]): Promise<number[]> {
  return images.map((img) => {
    let sum = 0;
    for (let y = 8; y < 24; y++) for (let x = 40; x < 56; x++) sum += img[3 * (y * SIZE + x)] / 255;
    return sum / 256;
  });
}

function mapOn(region: (x: number, y: number) => boolean): Float32Array {
  const map = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) map[y * SIZE + x] = region(x, y) ? 1 : 0;
  return map;
}

describe('eval: deletion/insertion faithfulness', () => {
  it('scores a map on the decisive region better than the random order on both curves', async () => {
    const r = await faithfulness(image(), SIZE, SIZE, mapOn(inSquare), redness, { steps: 16, seed: 3 });
    // The square is 1/16 of the pixels: one step of deletion turns all of it into its blurred copy,
    // after which nothing more changes; random deletion gets there only at the end.
    expect(r.curves.deletion[0]).to.be.closeTo(250 / 255, 1e-9);
    expect(r.curves.deletion[1]).to.be.below(r.curves.randomDeletion[1] - 0.1);
    expect(r.curves.deletion[1]).to.equal(r.curves.deletion[16]);
    expect(r.deletion).to.be.below(r.randomDeletion - 0.1);
    expect(r.insertion).to.be.above(r.randomInsertion + 0.1);
    expect(r.curves.fractions).to.have.length(17);
  });

  it('gives a map on the wrong region no advantage over random', async () => {
    const wrong = await faithfulness(image(), SIZE, SIZE, mapOn((x, y) => x < 16 && y > 40), redness, { steps: 16, seed: 3 });
    expect(wrong.deletion).to.be.at.least(wrong.randomDeletion);
    expect(wrong.insertion).to.be.at.most(wrong.randomInsertion);
  });

  it('is deterministic for a seed, and a flat map ranks like a random order', async () => {
    const a = await faithfulness(image(), SIZE, SIZE, mapOn(inSquare), redness, { seed: 5 });
    const b = await faithfulness(image(), SIZE, SIZE, mapOn(inSquare), redness, { seed: 5 });
    expect(a).to.deep.equal(b);
    expect(Array.from(rankPixels(new Float32Array(10), 1))).to.not.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(meanScores([a, b]).deletion).to.equal(a.deletion);
  });

  it('has the helpers it rests on right', () => {
    expect(curveArea([1, 1, 1])).to.equal(1);
    expect(curveArea([1, 0])).to.equal(0.5);
    const flat = new Uint8Array(8 * 8 * 3).fill(77);
    expect(Array.from(blurred(flat, 8, 8, 2)).every((v) => v === 77)).to.equal(true);
  });

  it('names wrong sizes', async () => {
    await faithfulness(image(), SIZE, SIZE, new Float32Array(10), redness)
      .then(() => expect.fail('accepted'), (err: Error) => expect(err.message).to.match(/Expected a map of 4096 values but received 10/));
  });
});
