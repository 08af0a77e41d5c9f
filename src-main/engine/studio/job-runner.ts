import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import type { JobEvent, JobKind } from '../../ipc/contract.ts';
import { errorLine } from '../jobs/failure-line.ts';

type Progress = Omit<JobEvent, 'jobId' | 'kind' | 'state'>;

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
  private readonly running = new Map<string, AbortController>();

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
    this.running.get(jobId)?.abort();
  }

  cancelAll(): void {
    for (const c of this.running.values()) c.abort();
  }

  /** Runs `work` as job `jobId`; resolves with its result, or rejects with its error (after the final event). */
  async run<T>(jobId: string, kind: JobKind, work: (ctx: JobContext) => Promise<T>, summarize: (r: T) => { message: string; result?: unknown }): Promise<T> {
    if (this.running.has(jobId)) throw new Error(`job ${jobId} is already running`);
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const emit = (e: Omit<JobEvent, 'jobId' | 'kind'>) => this.events.emit('job', { jobId, kind, ...e } satisfies JobEvent);
    emit({ state: 'running', fraction: 0, message: 'starting', etaSeconds: null });
    try {
      const result = await work({ signal: controller.signal, progress: (p) => emit({ state: 'running', ...p }) });
      const { message, result: payload } = summarize(result);
      emit({ state: controller.signal.aborted ? 'cancelled' : 'done', fraction: 1, message, etaSeconds: 0, result: payload });
      return result;
    } catch (err) {
      const cancelled = controller.signal.aborted;
      emit({ state: cancelled ? 'cancelled' : 'failed', fraction: 1, message: cancelled ? 'cancelled' : errorLine(err), etaSeconds: null });
      throw cancelled ? new Error('cancelled') : err;
    } finally {
      this.running.delete(jobId);
    }
  }
}
