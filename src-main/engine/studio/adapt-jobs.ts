import type { AdaptRequest, AdaptSummary } from '../../../src-shared/contract/types.ts';
import type { ModelRegistry } from '../models/index.ts';
import { AdaptationSession } from '../jobs/adapt-session.ts';
import type { JobRunner } from './job-runner.ts';

/** "Adapt to my photos" jobs: run in the background, then wait for the user to keep or discard the result. */
export class AdaptJobs {
  private readonly finished = new Map<string, AdaptationSession>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly jobs: JobRunner,
    private readonly userDataDir: string,
  ) {}

  async start(req: AdaptRequest): Promise<string> {
    const inputs = { blurryDir: req.blurryDir, sharpDir: req.sharpDir, name: req.name, minutes: req.minutes, iterations: req.iterations };
    // Everything that would fail the whole job fails the call, before a job id is handed out.
    const session = await AdaptationSession.prepare(this.registry, this.userDataDir, inputs, req.baseModelId);
    this.jobs.assertCanStart('adapt');
    const jobId = this.jobs.newId();
    void this.jobs
      .run(
        jobId,
        'adapt',
        ({ signal, progress }) => {
          // The latest iteration's event, repeated with the held-out score when one comes in.
          let latest: Parameters<typeof progress>[0] | null = null;
          return session.run({
            signal,
            onStatus: (message) => progress({ fraction: 0, message, etaSeconds: null }),
            onProgress: (p, budget) =>
              progress((latest = {
                ...budget,
                message: `iteration ${p.iteration} of ${p.totalIterations}${p.resumedFrom === null ? '' : ` (resumed at ${p.resumedFrom})`}`,
                training: { iteration: p.iteration, iterations: p.totalIterations, losses: p.losses, iterationsPerSecond: p.iterationsPerSecond ?? 0 },
              })),
            onHeldOut: ({ iteration, sharperPercent }) => {
              if (latest?.training) progress({ ...latest, training: { ...latest.training, sharper: { iteration, percent: sharperPercent } } });
            },
          });
        },
        (outcome) => {
          this.finished.set(jobId, session);
          const { refinerOnnx: _g, motionOnnx: _m, ...summary } = outcome;
          return {
            message: `${summary.iterations} iterations${summary.resumedFrom === null ? '' : ` (resumed at ${summary.resumedFrom})`} in ${(summary.seconds / 60).toFixed(1)} min: motion left ${summary.before.motionLeftPx.toFixed(2)} → ${summary.after.motionLeftPx.toFixed(2)} px`,
            result: summary satisfies AdaptSummary,
          };
        },
      )
      .catch(() => undefined); // the job's final event carries the error
    return jobId;
  }

  /** Keep (save as a personal model) or discard what an adaptation produced. */
  async finish(jobId: string, keep: boolean): Promise<void> {
    const session = this.finished.get(jobId);
    if (!session) throw new Error('no finished adaptation with that id');
    await session.finish(keep);
    this.finished.delete(jobId);
  }

  async dispose(): Promise<void> {
    this.finished.clear();
  }
}
