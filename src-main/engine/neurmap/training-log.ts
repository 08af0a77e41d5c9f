import fs from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-file.ts';
import type { LossValues, NetworkRole } from './iteration.ts';

/** One line of the per-iteration log. */
export interface LogRecord {
  iteration: number;
  /** Wall-clock time the iteration ended, ISO 8601. */
  time: string;
  /** Seconds the iteration took. */
  seconds: number;
  lr: Partial<Record<NetworkRole, number>>;
  losses: LossValues;
}

/**
 * The per-iteration loss log, JSON lines (one LogRecord per line). On resume the lines of iterations after the
 * checkpoint (done, then lost in a crash or cancel) are dropped, so the log matches the resumed run line for line.
 */
export class TrainingLog {
  private constructor(readonly file: string) {}

  /** Opens the log for a run that continues at `nextIteration` (0 for a fresh run, which empties it). */
  static async open(file: string, nextIteration: number): Promise<TrainingLog> {
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const kept = text
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as LogRecord).iteration < nextIteration;
        } catch {
          return false; // a line cut short by a crash
        }
      })
      .map((l) => l + '\n')
      .join('');
    if (kept !== text) await writeFileAtomic(file, kept);
    return new TrainingLog(file);
  }

  async append(r: LogRecord): Promise<void> {
    await fs.appendFile(this.file, JSON.stringify(r) + '\n');
  }

  static async read(file: string): Promise<LogRecord[]> {
    const text = await fs.readFile(file, 'utf8');
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as LogRecord);
  }
}

/** Progress of a training run, emitted after every iteration. */
export interface TrainingProgress {
  /** Iterations completed (the last one finished is `iteration − 1`). */
  iteration: number;
  totalIterations: number;
  losses: LossValues;
  lr: Partial<Record<NetworkRole, number>>;
  /** The iteration this session continued from (a resumed checkpoint), null for a run from the start. */
  resumedFrom: number | null;
  /** Iterations per second in this session (since start or resume), null until one is done. */
  iterationsPerSecond: number | null;
  /** Seconds left at that rate, null until known. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

/** Iterations/s and ETA over this session, with the first iteration (warm-up, kernel compilation) left out once there are more. */
export class ProgressMeter {
  private readonly times: number[] = [];
  private readonly start = performance.now();

  constructor(
    private readonly firstIteration: number,
    private readonly totalIterations: number,
  ) {}

  tick(): void {
    this.times.push(performance.now());
  }

  rate(): number | null {
    const n = this.times.length;
    if (n === 0) return null;
    if (n === 1) return 1000 / Math.max(1e-3, this.times[0] - this.start);
    return (1000 * (n - 1)) / Math.max(1e-3, this.times[n - 1] - this.times[0]);
  }

  snapshot(losses: LossValues, lr: Partial<Record<NetworkRole, number>>): TrainingProgress {
    const done = this.firstIteration + this.times.length;
    const rate = this.rate();
    return {
      iteration: done,
      totalIterations: this.totalIterations,
      losses,
      lr,
      resumedFrom: this.firstIteration > 0 ? this.firstIteration : null,
      iterationsPerSecond: rate,
      etaSeconds: rate ? (this.totalIterations - done) / rate : null,
      elapsedSeconds: (performance.now() - this.start) / 1000,
    };
  }
}
