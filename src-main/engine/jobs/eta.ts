/**
 * Remaining time from measured throughput: work (each item's size) per second of processing, over the last few
 * items and the one in progress. A slow start (opening the model, a cold disk) leaves the measure once later items
 * show the steady rate, and items that take no processing (resumed, skipped, failed) never count as fast work.
 */
export class EtaEstimator {
  /** Work not yet done, skipped or dropped (the item in progress included). */
  private remaining: number;
  /** The most recent finished items, oldest first. */
  private readonly recent: Array<{ work: number; seconds: number }> = [];
  private current: { work: number; startedAt: number; fraction: number } | null = null;

  constructor(
    totalWork: number,
    /** How many finished items the throughput is measured over. */
    private readonly window = 3,
  ) {
    this.remaining = totalWork;
  }

  /** An item starts processing. */
  begin(work: number, now = Date.now()): void {
    this.current = { work, startedAt: now, fraction: 0 };
  }

  /** How far the item in progress is, 0..1. */
  update(fraction: number): void {
    if (this.current) this.current.fraction = Math.min(1, Math.max(0, fraction));
  }

  /** The item in progress is done: its time joins the measure. */
  end(now = Date.now()): void {
    if (!this.current) return;
    this.recent.push({ work: this.current.work, seconds: (now - this.current.startedAt) / 1000 });
    if (this.recent.length > this.window) this.recent.shift();
    this.remaining -= this.current.work;
    this.current = null;
  }

  /** The item in progress failed: its work is no longer to do, and its time says nothing about the rate. */
  drop(): void {
    if (!this.current) return;
    this.remaining -= this.current.work;
    this.current = null;
  }

  /** An item that needs no processing (already done, kept as it was). */
  skip(work: number): void {
    this.remaining -= work;
  }

  /** Seconds left, or null until some work has been measured. */
  secondsLeft(now = Date.now()): number | null {
    let work = 0;
    let seconds = 0;
    for (const r of this.recent) {
      work += r.work;
      seconds += r.seconds;
    }
    let left = this.remaining;
    if (this.current) {
      const partial = this.current.work * this.current.fraction;
      work += partial;
      seconds += (now - this.current.startedAt) / 1000;
      left -= partial;
    }
    if (work <= 0 || seconds <= 0) return null;
    return Math.max(0, left) / (work / seconds);
  }
}
