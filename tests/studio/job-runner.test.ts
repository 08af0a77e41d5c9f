import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobRunner, type JobContext } from '../../src-main/engine/studio/job-runner.ts';
import type { JobEvent } from '../../src-shared/contract/types.ts';

/** Work that reports `fraction`, then waits for its cancel and ends as `end` says. */
function cancellable(fraction: number, end: (signal: AbortSignal) => unknown) {
  return ({ signal, progress }: JobContext) =>
    new Promise((resolve, reject) => {
      progress({ fraction, message: 'working', etaSeconds: 5 });
      signal.addEventListener('abort', () => {
        try {
          resolve(end(signal));
        } catch (err) {
          reject(err);
        }
      });
    });
}

function finalEvent(jobs: JobRunner, jobId: string): Promise<JobEvent> {
  return new Promise((resolve) => {
    const off = jobs.onEvent((e) => e.jobId === jobId && e.state !== 'running' && (off(), resolve(e)));
  });
}

test('a job cancelled part way ends at the fraction it reached, not at 100 %', async () => {
  const jobs = new JobRunner();
  const final = finalEvent(jobs, 'b');
  const run = jobs.run('b', 'batch', cancellable(0.3, () => ({ done: 3 })), () => ({ message: '3 done of 10' }));
  jobs.cancel('b');
  await run;
  const e = await final;
  assert.equal(e.state, 'cancelled');
  assert.equal(e.fraction, 0.3);
  assert.equal(e.etaSeconds, null);
  assert.equal(e.message, '3 done of 10');
});

test('a cancel error that says what was kept is the final line; a bare abort reads "cancelled"', async () => {
  const jobs = new JobRunner();
  const kept = finalEvent(jobs, 'a');
  const adapt = jobs.run('a', 'adapt', cancellable(0.5, () => {
    throw new Error('cancelled at iteration 12; the checkpoint is kept');
  }), () => ({ message: '' }));
  jobs.cancel('a');
  await assert.rejects(adapt, /cancelled/);
  assert.deepEqual([(await kept).state, (await kept).message, (await kept).fraction], ['cancelled', 'cancelled at iteration 12; the checkpoint is kept', 0.5]);

  const bare = finalEvent(jobs, 'd');
  const deblur = jobs.run('d', 'deblur', cancellable(0.2, (signal) => {
    throw signal.reason;
  }), () => ({ message: '' }));
  jobs.cancel('d');
  await assert.rejects(deblur, /cancelled/);
  assert.equal((await bare).message, 'cancelled');
});

test('one batch or adaptation at a time: a second is refused with a line saying why; single-photo jobs are not', async () => {
  const jobs = new JobRunner();
  jobs.assertCanStart('batch');
  assert.equal(jobs.longJobRunning, false);
  const run = jobs.run('b', 'batch', cancellable(0, () => null), () => ({ message: '' }));
  assert.equal(jobs.longJobRunning, true, 'the editor does not analyse photos ahead meanwhile');
  assert.throws(() => jobs.assertCanStart('batch'), /^Error: a batch is running: wait for it to finish or cancel it, then start again$/);
  assert.throws(() => jobs.assertCanStart('adapt'), /a batch is running/);
  jobs.assertCanStart('deblur');
  jobs.cancel('b');
  await run;
  jobs.assertCanStart('adapt');
  assert.equal(jobs.longJobRunning, false);
});
