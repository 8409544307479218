// Early stopping on a score that should rise (validation weighted F1): remembers the best epoch
// and stops after `patience` epochs without a strictly better score. Its state is plain JSON so a
// resumed run continues exactly where the interrupted one stood.

export interface EarlyStoppingState {
  bestScore: number | null;
  bestEpoch: number | null;
  /** Epochs since the best one. */
  epochsWithoutImprovement: number;
  stopped: boolean;
}

export interface EarlyStoppingUpdate {
  improved: boolean;
  stop: boolean;
}

export class EarlyStopper {
  private s: EarlyStoppingState;

  constructor(readonly patience: number, state?: EarlyStoppingState, readonly minDelta = 0) {
    if (!Number.isInteger(patience) || patience < 1) throw new RangeError(`Expected positive integer for patience but received ${patience}`);
    this.s = state ? { ...state } : { bestScore: null, bestEpoch: null, epochsWithoutImprovement: 0, stopped: false };
  }

  get state(): EarlyStoppingState {
    return { ...this.s };
  }

  get bestEpoch(): number | null {
    return this.s.bestEpoch;
  }

  get bestScore(): number | null {
    return this.s.bestScore;
  }

  get stopped(): boolean {
    return this.s.stopped;
  }

  /** Records one epoch's score; NaN never counts as an improvement. */
  update(epoch: number, score: number): EarlyStoppingUpdate {
    const improved = Number.isFinite(score) && (this.s.bestScore === null || score > this.s.bestScore + this.minDelta);
    if (improved) this.s = { ...this.s, bestScore: score, bestEpoch: epoch, epochsWithoutImprovement: 0 };
    else this.s = { ...this.s, epochsWithoutImprovement: this.s.epochsWithoutImprovement + 1 };
    if (this.s.epochsWithoutImprovement >= this.patience) this.s.stopped = true;
    return { improved, stop: this.s.stopped };
  }
}
