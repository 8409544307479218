// What a training reports while it runs: the CLI turns these into a progress bar or JSON lines,
// the web server into its own status, tests into assertions. Plain JSON objects.
import type { EpochLogRecord } from './run-folder';
import type { TrainConfig } from './recipe';

export type TrainEvent =
  | { event: 'warning'; message: string }
  /** Temp files and folders of writers that were killed (their pid is gone), removed before starting. */
  | { event: 'stale-temps-removed'; paths: string[] }
  | { event: 'run-start'; runDir: string; resumed: boolean; startEpoch: number; config: TrainConfig;
    counts: Record<'train' | 'val' | 'test', { benign: number; malignant: number; patients: number }>; classWeights: number[] }
  /** The stain target inputs are normalised to, fitted to a reference image or a sample of the training split. */
  | { event: 'stain-target'; method: string; fittedTo: string; images: number }
  | { event: 'epoch-start'; epoch: number; maxEpochs: number; batches: number }
  | { event: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number }
  | { event: 'validate'; epoch: number; done: number; total: number }
  /** A distributed rank completed its device-resident copy of a split (`added` images it had not streamed). */
  | { event: 'device-images'; split: 'train'; images: number; added: number }
  | { event: 'epoch-end'; record: EpochLogRecord }
  | { event: 'early-stop'; epoch: number; bestEpoch: number; patience: number }
  | { event: 'interrupted'; runDir: string; epochsCompleted: number }
  /** `shard`: a distributed run, where this rank predicts `shard.images` of the part's `images`. */
  | { event: 'evaluate'; part: 'val' | 'test'; images: number; shard?: { rank: number; ranks: number; images: number } }
  /** The Grad-CAM gallery was written (`files` files under `dir`, in `seconds`). */
  | { event: 'gallery'; dir: string; files: number; seconds: number }
  | { event: 'run-end'; runDir: string; bestEpoch: number; epochs: number; threshold: number;
    val: { accuracy: number; weightedF1: number }; test: { accuracy: number; weightedF1: number; auc: number | null } };

export type TrainEventHandler = (e: TrainEvent) => void;
