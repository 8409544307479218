// Counts of the complete BreakHis v1 dataset (Spanhol et al., IEEE TBME 2016), printed beside the
// counts found so an incomplete download shows at once.
import type { Magnification, SubtypeCode, TumourClass } from './breakhis-names';

export const EXPECTED_IMAGES_BY_CLASS_MAG: Record<TumourClass, Record<Magnification, number>> = {
  benign: { '40X': 625, '100X': 644, '200X': 623, '400X': 588 },
  malignant: { '40X': 1370, '100X': 1437, '200X': 1390, '400X': 1232 },
};

export const EXPECTED_IMAGES_BY_SUBTYPE: Record<SubtypeCode, number> = {
  A: 444, F: 1014, PT: 453, TA: 569, DC: 3451, LC: 626, MC: 792, PC: 560,
};

/** Patients as the dataset counts them: one per patient folder (subtype + ID), 82 in all. */
export const EXPECTED_PATIENTS_BY_SUBTYPE: Record<SubtypeCode, number> = {
  A: 4, F: 10, PT: 3, TA: 7, DC: 38, LC: 5, MC: 9, PC: 6,
};

export const EXPECTED_TOTALS = {
  images: 7909,
  imagesByClass: { benign: 2480, malignant: 5429 } as Record<TumourClass, number>,
  patients: 82,
  patientsByClass: { benign: 24, malignant: 58 } as Record<TumourClass, number>,
};
