/**
 * The editor's MAP core: the photo just opened is estimated in the background on threads that stay warm, runs wait
 * for that estimate instead of making their own, and cancels stop the waiting or the threads without losing work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapDeblurRaster } from '../../src-main/engine/map/deblur-photo.ts';
import { estimatePhotoBlur } from '../../src-main/engine/map/photo-blur.ts';
import { WarmMapCore } from '../../src-main/engine/studio/warm-map-core.ts';
import { sampleRaster } from '../helpers/blurred-sample.ts';

const twoThreads = async () => 2;

test("a photo's blur is estimated ahead, exactly as a run would estimate it, and a run waits for it with its progress", async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await sampleRaster(320, 240);
    void core.estimateAhead(photo);
    const fractions: number[] = [];
    const ahead = await core.awaitAhead(photo, new AbortController().signal, (f) => fractions.push(f));
    assert.deepEqual(ahead, await estimatePhotoBlur(photo));
    assert.ok(fractions.length > 1 && fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1])), String(fractions));
    assert.equal(await core.awaitAhead(photo, new AbortController().signal, () => {}), null, 'nothing runs once it is done');
  } finally {
    await core.close();
  }
});

test('a cancelled wait stops the waiting at once, not the estimate, which stays usable', async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await sampleRaster(600, 400);
    const ahead = core.estimateAhead(photo);
    const controller = new AbortController();
    const waiting = core.awaitAhead(photo, controller.signal, () => {});
    await new Promise((res) => setTimeout(res, 200));
    const t = performance.now();
    controller.abort();
    await assert.rejects(waiting, (err: Error) => err.name === 'AbortError');
    assert.ok(performance.now() - t < 100);
    assert.ok((await ahead)?.regions.length);
  } finally {
    await core.close();
  }
});

test("opening another photo stops the first one's estimate ahead", async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const first = core.estimateAhead(await sampleRaster(600, 400));
    const second = core.estimateAhead(await sampleRaster(320, 240));
    assert.equal(await first, null);
    assert.ok((await second)?.regions.length);
  } finally {
    await core.close();
  }
});

test('the threads stay warm between runs; a cancelled run closes them and the next run gets new ones', async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await sampleRaster(320, 240);
    const pool = await core.pooled();
    assert.ok(pool && !pool.runsHere);
    await mapDeblurRaster(photo, { pool });
    assert.equal(await core.pooled(), pool);
    const controller = new AbortController();
    const run = mapDeblurRaster(photo, { pool, signal: controller.signal });
    await new Promise((res) => setTimeout(res, 100));
    controller.abort();
    await assert.rejects(run, (err: Error) => err.name === 'AbortError');
    assert.ok(pool.closed);
    const next = await core.pooled();
    assert.ok(next && next !== pool && !next.closed);
    assert.ok((await mapDeblurRaster(photo, { pool: next })).estimate.regions.length);
  } finally {
    await core.close();
  }
});

test('one thread asked for: no warm threads, runs start their own', async () => {
  const core = new WarmMapCore(async () => 1);
  assert.equal(await core.pooled(), null);
  await core.close();
});
