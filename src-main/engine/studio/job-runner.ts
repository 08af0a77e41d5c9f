import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import type { JobEvent, JobEventOf, JobKind, JobResultOf } from '../../../src-shared/contract/types.ts';
import { errorLine } from '../jobs/failure-line.ts';

/** What a job reports while it runs (its final outcome goes through `run`'s summarize). */
type Progress = Omit<JobEventOf<JobKind>, 'jobId' | 'kind' | 'state' | 'result'>;

/** Batch and adaptation each keep every core busy for minutes: one of them at a time. */
const EXCLUSIVE_KINDS: ReadonlySet<JobKind> = new Set(['batch', 'adapt']);
const KIND_NAMES: Record<JobKind, string> = { deblur: 'a deblur', motion: 'a motion analysis', batch: 'a batch', adapt: 'an adaptation' };

export interface JobContext {
  signal: AbortSignal;
  progress(p: Progress): void;
}

/**
 * Long actions with ids: every one can be cancelled and reports progress as JobEvents, ending in exactly one
 * of done / failed / cancelled.
 */
export class JobRunner {
  private readonly events = new EventEmitter();
  private readonly running = new Map<string, { controller: AbortController; kind: JobKind }>();

  onEvent(cb: (e: JobEvent) => void): () => void {
    this.events.on('job', cb);
    return () => this.events.off('job', cb);
  }

  newId(): string {
    return crypto.randomBytes(8).toString('hex');
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  cancel(jobId: string): void {
    this.running.get(jobId)?.controller.abort();
  }

  cancelAll(): void {
    for (const { controller } of this.running.values()) controller.abort();
  }

  /** Whether a batch or an adaptation runs (each keeps every core busy). */
  get longJobRunning(): boolean {
    for (const j of this.running.values()) if (EXCLUSIVE_KINDS.has(j.kind)) return true;
    return false;
  }

  /** Refuses a batch or an adaptation while one runs, with the line the user reads (call before handing out an id). */
  assertCanStart(kind: JobKind): void {
    if (!EXCLUSIVE_KINDS.has(kind)) return;
    for (const other of this.running.values()) {
      if (EXCLUSIVE_KINDS.has(other.kind)) throw new Error(`${KIND_NAMES[other.kind]} is running: wait for it to finish or cancel it, then start again`);
    }
  }

  /** Runs `work` as job `jobId`; resolves with its result, or rejects with its error (after the final event). */
  async run<K extends JobKind, T>(
    jobId: string,
    kind: K,
    work: (ctx: JobContext) => Promise<T>,
    summarize: (r: T) => { message: string; result?: JobResultOf<K> },
  ): Promise<T> {
    if (this.running.has(jobId)) throw new Error(`job ${jobId} is already running`);
    const controller = new AbortController();
    this.running.set(jobId, { controller, kind });
    // The signature ties the kind to its result, which TypeScript cannot follow through a generic union: one cast, here.
    const emit = (e: Progress & { state: JobEvent['state']; result?: JobResultOf<K> }) => this.events.emit('job', { jobId, kind, ...e } as JobEvent);
    // A job that stops early ends at the fraction it reached: a cancelled job never reads as complete.
    let reached = 0;
    emit({ state: 'running', fraction: 0, message: 'starting', etaSeconds: null });
    try {
      const result = await work({
        signal: controller.signal,
        progress: (p) => {
          reached = p.fraction;
          emit({ state: 'running', ...p });
        },
      });
      const { message, result: payload } = summarize(result);
      const cancelled = controller.signal.aborted;
      emit({ state: cancelled ? 'cancelled' : 'done', fraction: cancelled ? reached : 1, message, etaSeconds: cancelled ? null : 0, result: payload });
      return result;
    } catch (err) {
      const cancelled = controller.signal.aborted;
      // A bare abort says nothing more; a job's own cancel error says what it kept (an adaptation's checkpoint).
      const message = cancelled && (err as Error | null)?.name === 'AbortError' ? 'cancelled' : errorLine(err);
      emit({ state: cancelled ? 'cancelled' : 'failed', fraction: reached, message, etaSeconds: null });
      throw cancelled ? new Error('cancelled') : err;
    } finally {
      this.running.delete(jobId);
    }
  }
}
