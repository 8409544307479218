// Viridis, the perceptually uniform colormap (matplotlib's default): equal steps in attention look
// like equal steps in colour, it reads in greyscale print and for the common colour-vision
// deficiencies, unlike jet/rainbow which invent edges. Polynomial fit by Matt Zucker (CC0), within
// a few levels (of 255) of matplotlib's table; precomputed once into a 256-entry lookup table.

const COEFFICIENTS: readonly (readonly [number, number, number])[] = [
  [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
  [0.1050930431085774, 1.404613529898575, 1.384590162594685],
  [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
  [-4.634230498983486, -5.799100973351585, -19.33244095627987],
  [6.228269936347081, 14.17993336680509, 56.69055260068105],
  [4.776384997670288, -13.74514537774601, -65.35303263337234],
  [-5.435455855934631, 4.645852612178535, 26.3124352495832],
];

function viridisAt(t: number): [number, number, number] {
  const rgb: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let v = 0;
    for (let i = COEFFICIENTS.length - 1; i >= 0; i--) v = v * t + COEFFICIENTS[i][c];
    rgb[c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return rgb;
}

/** 256 RGB triples: entry i is the colour of the value i/255. */
export const VIRIDIS_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(viridisAt(i / 255), i * 3);
  return lut;
})();

/** Colours 8-bit values (0 = no attention, 255 = most) into RGB pixels. */
export function applyColormap(values: Uint8Array, lut: Uint8Array = VIRIDIS_LUT): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const j = values[i] * 3;
    out[i * 3] = lut[j];
    out[i * 3 + 1] = lut[j + 1];
    out[i * 3 + 2] = lut[j + 2];
  }
  return out;
}

/**
 * Grad-CAM's colours over tissue: the upper half of viridis (teal → green → yellow), with opacity
 * rising from fully transparent at no evidence. Why not all of viridis: its dark-purple and blue
 * low end has the hue and lightness of haematoxylin-stained nuclei, so weak evidence painted over
 * tissue looked like stain. H&E has no green or yellow dye, so these hues cannot be mistaken for
 * tissue; lightness still rises monotonically (perceptually ordered, readable in greyscale); and
 * weak evidence stays transparent, so any coloured pixel means evidence.
 */
export const EVIDENCE_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(viridisAt(0.5 + (0.5 * i) / 255), i * 3);
  return lut;
})();

/** EVIDENCE_LUT as RGBA words, alpha = the value: one 32-bit copy per pixel. */
const EVIDENCE_RGBA: Uint32Array = (() => {
  const bytes = new Uint8Array(256 * 4);
  for (let i = 0; i < 256; i++) {
    bytes.set(EVIDENCE_LUT.subarray(i * 3, i * 3 + 3), i * 4);
    bytes[i * 4 + 3] = i;
  }
  // Viewing bytes as words and back keeps their order on any endianness.
  return new Uint32Array(bytes.buffer);
})();

/** Colours 8-bit values into RGBA pixels of EVIDENCE_LUT whose alpha is the value itself. */
export function applyEvidenceColormap(values: Uint8Array): Uint8Array {
  const words = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) words[i] = EVIDENCE_RGBA[values[i]];
  return new Uint8Array(words.buffer);
}
