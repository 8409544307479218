// Shapes of a split file. One file holds either one hold-out split or k cross-validation folds.
import type { Magnification, TumourClass } from './breakhis-names';

export type PartName = 'train' | 'val' | 'test';
export const PART_NAMES: readonly PartName[] = ['train', 'val', 'test'];

/** `patient`: by patient ID (`14-22549AB`); `case`: by case number (`14-22549`), stricter. */
export type GroupBy = 'patient' | 'case';

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface SplitPart {
  /** Group keys (patient IDs or case numbers, as `groupBy` says), sorted. */
  groups: string[];
  /** Patient IDs in this part, sorted. */
  patients: string[];
  /** Image paths relative to the manifest root, sorted. */
  images: string[];
  imagesByClass: Record<TumourClass, number>;
}

export interface SplitFold {
  name: string;
  parts: Record<PartName, SplitPart>;
}

export interface SplitFile {
  version: number;
  kind: 'holdout' | 'kfold';
  seed: number;
  fractions: SplitFractions;
  /** Number of folds in k-fold mode; absent for hold-out. */
  folds?: number;
  groupBy: GroupBy;
  /** Images per class per magnification, when capped; see makeSplit for the policy. */
  capPerClass?: number;
  magnifications: Magnification[];
  manifest: { path?: string; hash: string; root: string };
  createdAt: string;
  splits: SplitFold[];
}
