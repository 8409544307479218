// Loss, accuracy and weighted F1 of one pass over a split, accumulated batch by batch, with the
// metrics computed by src/eval from one confusion matrix so they match the final report exactly.
import { classificationMetrics, confusionMatrix, type ClassLabel } from '../eval';

export interface PassMetrics {
  loss: number;
  accuracy: number;
  weightedF1: number;
  images: number;
}

export interface PassSnapshot {
  labels: ClassLabel[];
  predicted: ClassLabel[];
  lossSum: number;
  weightSum: number;
}

export class PassAccumulator {
  private readonly labels: ClassLabel[] = [];
  private readonly predicted: ClassLabel[] = [];
  private lossSum = 0;
  private weightSum = 0;

  /** Adds a batch whose mean loss is `meanLoss` with total loss weight `weight` (images, or summed class weights). */
  addBatch(labels: readonly number[], predicted: readonly number[], meanLoss: number, weight = labels.length): void {
    for (let i = 0; i < labels.length; i++) {
      this.labels.push(labels[i] as ClassLabel);
      this.predicted.push(predicted[i] as ClassLabel);
    }
    this.lossSum += meanLoss * weight;
    this.weightSum += weight;
  }

  get count(): number {
    return this.labels.length;
  }

  /** What another process needs to merge this pass with its own (distributed training). */
  snapshot(): PassSnapshot {
    return { labels: [...this.labels], predicted: [...this.predicted], lossSum: this.lossSum, weightSum: this.weightSum };
  }

  /** One pass from every rank's snapshot, in rank order. */
  static merged(parts: readonly PassSnapshot[]): PassAccumulator {
    const all = new PassAccumulator();
    for (const p of parts) {
      all.labels.push(...p.labels);
      all.predicted.push(...p.predicted);
      all.lossSum += p.lossSum;
      all.weightSum += p.weightSum;
    }
    return all;
  }

  /** Running accuracy (for the progress bar). */
  get accuracy(): number {
    let ok = 0;
    for (let i = 0; i < this.labels.length; i++) if (this.labels[i] === this.predicted[i]) ok++;
    return this.labels.length ? ok / this.labels.length : 0;
  }

  get loss(): number {
    return this.weightSum ? this.lossSum / this.weightSum : 0;
  }

  result(): PassMetrics {
    const m = classificationMetrics(confusionMatrix(this.labels, this.predicted));
    return { loss: this.loss, accuracy: m.accuracy, weightedF1: m.weightedF1, images: this.labels.length };
  }
}

/** Argmax of each row of logits or probabilities. */
export function argmax(rows: readonly (readonly number[])[]): number[] {
  return rows.map((r) => (r[1] > r[0] ? 1 : 0));
}

/**
 * Class-weighted cross-entropy of softmax probabilities, as PyTorch's weighted mean
 * (Σ w_y·(−log p_y) / Σ w_y), so validation loss is on the training loss's scale.
 */
export function weightedCrossEntropy(probs: readonly (readonly number[])[], labels: readonly number[], weights: readonly number[]): { mean: number; weight: number } {
  let sum = 0;
  let weight = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights[labels[i]] ?? 1;
    sum += w * -Math.log(Math.max(probs[i][labels[i]], 1e-12));
    weight += w;
  }
  return { mean: weight ? sum / weight : 0, weight };
}
