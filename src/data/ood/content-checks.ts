// Checks on what an image shows, from its decoded pixels (at the model's input size, so the cost
// does not grow with the upload): is there stained tissue, is it coloured like H&E, and does it
// have the fine texture of a micrograph rather than flat colour or a smooth gradient. Thresholds
// are set below the lowest value over the 312 real BreakHis images of /work/shared/data (at least
// half of it, or a clear gap), so real tissue never warns: tissue 0.059, H&E share 0.65 of tissue
// pixels, texture 4.2 grey levels (minimum over that sample), identical neighbours 0.21 (maximum).
import type { ImageWarning, RgbPixels } from './ood-types';
import { stainFeatures, type StainFeatures } from './stain-features';

/** Below this share of stained pixels there is no tissue to judge (sample minimum 0.059). */
export const MIN_TISSUE = 0.02;
/** Below this share of H&E-coloured tissue pixels the image is not H&E (sample minimum 0.65). */
export const MIN_STAIN = 0.5;
/** Below this mean neighbour difference the image is flat colour or a gradient (sample minimum 4.2). */
export const MIN_TEXTURE = 2;

/** Above this share of identical neighbours the image is mostly drawn areas (sample maximum 0.21, a screenshot 0.73). */
export const MAX_UNIFORM = 0.45;

const percent = (x: number): string => `${Math.round(100 * x)}%`;

export function contentWarnings(features: StainFeatures): ImageWarning[] {
  const warnings: ImageWarning[] = [];
  if (features.tissueFraction < MIN_TISSUE) {
    warnings.push({
      code: 'no-tissue',
      message: `Hardly any stained tissue: ${percent(features.tissueFraction)} of the image absorbs light like stained tissue does ` +
        '(blank, white or transparent), so there is nothing for the model to judge.',
    });
  } else if (features.stainFraction < MIN_STAIN) {
    warnings.push({
      code: 'not-he',
      message: `The colours do not look like H&E staining: only ${percent(features.stainFraction)} of the coloured pixels are ` +
        'haematoxylin purple or eosin pink. This may be a screenshot, a photo or another stain; the model only knows H&E.',
    });
  }
  if (features.texture < MIN_TEXTURE) {
    warnings.push({
      code: 'flat',
      message: 'The image has almost no fine texture (flat colour or a smooth gradient), unlike a micrograph of tissue.',
    });
  } else if (features.uniformShare > MAX_UNIFORM) {
    warnings.push({
      code: 'uniform',
      message: `${percent(features.uniformShare)} of neighbouring pixels have exactly the same colour, as in screenshots and drawings; ` +
        'a micrograph has sensor noise everywhere.',
    });
  }
  return warnings;
}

export function pixelWarnings(pixels: RgbPixels): ImageWarning[] {
  return contentWarnings(stainFeatures(pixels));
}
