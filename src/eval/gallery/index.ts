// The Grad-CAM gallery of a run, as far as it needs no model: which images, their pictures, the
// sheets, CSVs and per-subtype errors. src/train computes the maps and writes the files.
export * from './select-gallery';
export * from './top-losses';
export * from './gallery-image';
export * from './gallery-report';
export * from './gallery-sheet';
