import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Studio } from '../../src-main/engine/studio/studio.ts';
import type { BatchRequest, JobEvent } from '../../src-shared/contract/types.ts';
import { tempDir, tinyModelsDir } from '../helpers/cli.ts';
import { writeTestPhoto } from '../helpers/photos.ts';

let studio: Studio;
let work: string;

before(async () => {
  work = await tempDir('neurmap-long-jobs-');
  studio = new Studio({ userDataDir: path.join(work, 'user'), modelsDir: await tinyModelsDir({ refiner: true }), assetUrl: (p) => `asset:${p}` });
});

after(() => studio.dispose());

test('while a batch runs, a second batch and an adaptation are refused; the cancelled batch ends where it stopped', async () => {
  const input = path.join(work, 'in');
  for (let i = 0; i < 6; i++) await writeTestPhoto(path.join(input, `p${i}.jpg`), { seed: i, width: 320, height: 240 });
  const req: BatchRequest = { inputDir: input, outputDir: path.join(work, 'out'), recursive: false, format: 'png', quality: 90, suffix: '-d', skipExisting: false, strength: 1, protectSharp: false };
  const firstDone = new Promise<void>((resolve) => {
    const off = studio.onJobEvent((e) => e.file?.status === 'done' && (off(), resolve()));
  });
  const jobId = await studio.startBatch(req);
  const final = new Promise<JobEvent>((resolve) => {
    const off = studio.onJobEvent((e) => e.jobId === jobId && e.state !== 'running' && (off(), resolve(e)));
  });
  await assert.rejects(studio.startBatch({ ...req, outputDir: path.join(work, 'out2') }), /^Error: a batch is running: wait for it to finish or cancel it, then start again$/);
  await assert.rejects(studio.startAdapt({ blurryDir: input, name: 'mine', minutes: 1 }), /a batch is running/);
  await firstDone;
  await studio.cancelJob(jobId);
  const e = await final;
  assert.equal(e.state, 'cancelled');
  const summary = e.result as { done: number; total: number };
  assert.ok(summary.done >= 1 && summary.done < 6, `${summary.done} of 6 done at the cancel`);
  assert.ok(e.fraction < 1, `a cancelled batch is not shown complete (${e.fraction})`);
});
