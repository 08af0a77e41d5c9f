/** Remaining-time estimate from the work done so far, weighted by each item's size (pixels) when known. */
export class EtaEstimator {
  private readonly start = Date.now();
  private doneWork = 0;

  constructor(private readonly totalWork: number) {}

  advance(work: number): void {
    this.doneWork += work;
  }

  /** Seconds left, or null until there is something to extrapolate from. */
  secondsLeft(now = Date.now()): number | null {
    if (this.doneWork <= 0) return null;
    const elapsed = (now - this.start) / 1000;
    return Math.max(0, (elapsed * (this.totalWork - this.doneWork)) / this.doneWork);
  }
}
