// Shared shapes of the out-of-distribution checks.

/** Decoded RGB pixels, row-major HWC, 3 bytes per pixel. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

export type ImageWarningCode = 'tiny' | 'strip' | 'transparent' | 'size' | 'no-tissue' | 'not-he' | 'flat' | 'uniform';

/** A reason to doubt an answer; the image is still analysed. */
export interface ImageWarning {
  code: ImageWarningCode;
  message: string;
}

/** What the model was trained on: its images' typical size, and how messages name the model. */
export interface TrainingImages {
  width: number;
  height: number;
  /** e.g. "the 100X model". */
  model: string;
}

/** BreakHis images are 700×460 at every magnification (a few 700×456). */
export const BREAKHIS_IMAGE_SIZE = { width: 700, height: 460 } as const;
