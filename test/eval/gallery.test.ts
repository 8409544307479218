// The model-free parts of a run's gallery: the seeded sample, the top-loss ranking, the per-subtype
// errors and the sheet's SVG.
import { expect } from 'chai';
import sharp from 'sharp';

import {
  type ClassLabel, type GalleryItem, captionLines, galleryItemsCsv, imageCrossEntropy, renderGallerySheetSvg, selectGallery, sheetPng, subtypeErrors, topLosses,
} from '../../src/eval';
import { assertWellFormedSvg } from './svg-wellformed';

/** 3 benign subtypes × 2 patients × 3 images, and 2 malignant subtypes × 3 patients × 2 images. */
function cohort(): { path: string; label: ClassLabel; patient: string; subtype: string }[] {
  const out: { path: string; label: ClassLabel; patient: string; subtype: string }[] = [];
  for (const [label, subtypes, patients, images] of [[0, ['A', 'F', 'TA'], 2, 3], [1, ['DC', 'LC'], 3, 2]] as const) {
    for (const subtype of subtypes) {
      for (let p = 0; p < patients; p++) {
        for (let i = 0; i < images; i++) out.push({ path: `${subtype}-${p}-${i}.png`, label, patient: `${subtype}${p}`, subtype });
      }
    }
  }
  return out;
}

describe('gallery selection', () => {
  it('takes perClass images of each class, benign first, every subtype before a second from any', () => {
    const c = cohort();
    const picked = selectGallery(c, { perClass: 4, seed: 42 }).map((i) => c[i]);
    expect(picked.map((p) => p.label)).to.deep.equal([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(new Set(picked.slice(0, 3).map((p) => p.subtype)).size).to.equal(3);
    expect(new Set(picked.slice(4).map((p) => p.subtype))).to.deep.equal(new Set(['DC', 'LC']));
    // Within a subtype its patients take turns: the two DC picks are two DC patients.
    for (const s of ['DC', 'LC']) {
      const ofSubtype = picked.filter((p) => p.subtype === s);
      expect(new Set(ofSubtype.map((p) => p.patient)).size).to.equal(ofSubtype.length);
    }
  });

  it('is the same for the same seed in any input order, and differs for other seeds', () => {
    const c = cohort();
    const paths = (list: typeof c, seed: number): string[] => selectGallery(list, { perClass: 3, seed }).map((i) => list[i].path);
    expect(paths(c.slice().reverse(), 7)).to.deep.equal(paths(c, 7));
    expect([8, 9, 10].some((s) => paths(c, s).join() !== paths(c, 7).join())).to.equal(true);
  });

  it('takes what there is when a class has fewer images', () => {
    const c = cohort().filter((x) => x.label === 1).slice(0, 2);
    expect(selectGallery(c, { perClass: 4, seed: 1 })).to.have.members([0, 1]);
    expect(selectGallery([], { perClass: 4, seed: 1 })).to.deep.equal([]);
  });
});

describe('top losses', () => {
  it('ranks by unweighted cross-entropy of the true class, highest first', () => {
    const c = [
      { path: 'a', label: 0 as const, probabilities: [0.9, 0.1] },
      { path: 'b', label: 1 as const, probabilities: [0.8, 0.2] },
      { path: 'c', label: 0 as const, probabilities: [0.05, 0.95] },
      { path: 'd', label: 1 as const, probabilities: [0, 1] },
      { path: 'e', label: 1 as const, probabilities: [1, 0] },
    ];
    const top = topLosses(c, 3);
    expect(top.map((t) => c[t.index].path)).to.deep.equal(['e', 'c', 'b']);
    expect(top[1].loss).to.be.closeTo(-Math.log(0.05), 1e-12);
    expect(Number.isFinite(top[0].loss)).to.equal(true);
    expect(imageCrossEntropy([0, 1], 1)).to.equal(0);
    expect(() => imageCrossEntropy([Number.NaN, 1], 0)).to.throw(/probability in \[0, 1\] for class 0/);
  });
});

describe('gallery report and sheet', () => {
  const item: GalleryItem = { rank: 1, path: 'x.png', patient: '14-1', subtype: 'DC', label: 1, predicted: 0, probMalignant: 0.2, loss: 1.609, overlay: 'loss-01-x.jpg' };

  it('captions a mistake and writes CSV rows with names, not indices', () => {
    expect(captionLines(item, true)).to.deep.equal(['#1 MISTAKE: malignant called benign', 'P(malignant) 0.200 · loss 1.61', 'patient 14-1 · DC']);
    expect(galleryItemsCsv([item]).split('\n')[1]).to.equal('1,x.png,14-1,DC,malignant,benign,0.2,1.609,overlays/loss-01-x.jpg');
  });

  it('counts errors per subtype at the threshold', () => {
    const records = [
      { label: 1 as const, probMalignant: 0.4, subtype: 'DC' }, { label: 1 as const, probMalignant: 0.6, subtype: 'DC' },
      { label: 0 as const, probMalignant: 0.5, subtype: 'F' },
    ];
    expect(subtypeErrors(records, 0.5)).to.deep.equal([{ subtype: 'F', images: 1, errors: 1 }, { subtype: 'DC', images: 2, errors: 1 }]);
  });

  it('draws a well-formed SVG that rasterises to a palette PNG', async () => {
    const jpeg = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#c080c0' } }).jpeg().toBuffer();
    const tile = { originalJpeg: jpeg, overlayJpeg: jpeg, width: 30, height: 20, lines: captionLines(item, true), mistake: true };
    const svg = renderGallerySheetSvg([tile, { ...tile, mistake: false }], { title: 'Top <2> & more', side: { title: 'Errors', header: ['Subtype', 'Images', 'Errors'], rows: [['DC', 2, 1]] } });
    assertWellFormedSvg(svg);
    expect(svg).to.include('Top &lt;2&gt; &amp; more').and.include('data:image/jpeg;base64,');
    const png = await sharp(await sheetPng(svg)).metadata();
    expect(png.format).to.equal('png');
    expect(png.isPalette).to.equal(true);
    assertWellFormedSvg(renderGallerySheetSvg([], { title: 'empty' }));
  });
});
