/**
 * A panel's view of its long job (the Batch panel's batch, the Adapt panel's adaptation): the latest event, whether
 * it runs or has ended, and the other long job that keeps it from starting (the engine runs one at a time).
 */
import type { JobEvent, JobEventOf } from '../../src-shared/contract/types.ts';
import { app, type AdaptJob, type BatchJob } from './store.svelte.ts';

type LongKind = 'batch' | 'adapt';
type JobOf<K extends LongKind> = K extends 'batch' ? BatchJob : AdaptJob;

export interface TrackedLongJob<K extends LongKind> {
  readonly job: JobOf<K> | null;
  /** The latest event; null until the first arrives. */
  readonly last: JobEventOf<K> | null;
  readonly running: boolean;
  readonly ended: boolean;
  /** The other long job, running now, or null. */
  readonly other: { kind: LongKind; label: string } | null;
  /** No long job runs or is starting. */
  readonly free: boolean;
  /** The heading of its state: `runningWord` while it runs, `doneWord` when done, else Cancelled / Failed. */
  heading(runningWord: string, doneWord: string): string;
  cancel(): void;
}

export function trackLongJob<K extends LongKind>(kind: K): TrackedLongJob<K> {
  const job = $derived(app[kind] as JobOf<K> | null);
  const last = $derived((job?.last ?? null) as JobEvent | null);
  const running = $derived(!!job && (!last || last.state === 'running'));
  const ended = $derived(!!last && last.state !== 'running');
  const other = $derived(app.longJob && app.longJob.kind !== kind ? app.longJob : null);
  const free = $derived(!app.longJob && !app.startingLong);
  return {
    get job() {
      return job;
    },
    get last() {
      return last as JobEventOf<K> | null;
    },
    get running() {
      return running;
    },
    get ended() {
      return ended;
    },
    get other() {
      return other;
    },
    get free() {
      return free;
    },
    heading(runningWord, doneWord) {
      if (!last || last.state === 'running') return runningWord;
      return last.state === 'done' ? doneWord : last.state === 'cancelled' ? 'Cancelled' : 'Failed';
    },
    cancel() {
      if (job) void app.cancelJob(job.jobId);
    },
  };
}
