/**
 * The editor's MAP core: the photo just opened is analysed in the background (its blur estimate, then its
 * display-sized preview) on threads that stay warm; runs wait for that analysis instead of repeating it, and
 * cancels stop the waiting or the threads without losing work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deconvolves, mapDeblurRaster, previewOptions } from '../../src-main/engine/map/deblur-photo.ts';
import { estimatePhotoBlur } from '../../src-main/engine/map/photo-blur.ts';
import { downscaleRaster } from '../../src-main/engine/studio/previews.ts';
import { WarmMapCore } from '../../src-main/engine/studio/warm-map-core.ts';
import { convolvePlane } from '../helpers/convolve.ts';
import { greyCrop, planeToRaster, quantise, sampleRaster, shakeKernel } from '../helpers/blurred-sample.ts';

const twoThreads = async () => 2;
const never = new AbortController().signal;

async function shakenPhoto() {
  const [w, h] = [320, 240];
  return planeToRaster(quantise(convolvePlane(await greyCrop(w, h), w, h, shakeKernel())), w, h);
}

test("a photo's blur is estimated ahead, exactly as a run would estimate it, and a run waits for it with its progress", async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await sampleRaster(320, 240);
    void core.analyseAhead(photo, 2048);
    const fractions: number[] = [];
    const ahead = await core.aheadEstimate(photo, never, (f) => fractions.push(f));
    assert.deepEqual(ahead, await estimatePhotoBlur(photo));
    assert.ok(fractions.length > 1 && fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1])), String(fractions));
    assert.equal(await core.aheadEstimate(await sampleRaster(320, 240), never, () => {}), null, 'another photo has none');
    assert.equal(await core.aheadPreview(photo, never), null, 'no preview for a photo no larger than the preview');
  } finally {
    await core.close();
  }
});

test('then its display-sized preview: the deblur of a smaller copy with the estimate scaled to it', async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await shakenPhoto();
    const estimate = await core.analyseAhead(photo, 160);
    assert.ok(estimate && deconvolves(estimate));
    const preview = await core.aheadPreview(photo, never);
    const small = await downscaleRaster(photo, 160);
    const expected = await mapDeblurRaster(small.raster, { ...previewOptions(small.raster, estimate, 2), threads: 1 });
    assert.deepEqual([preview?.width, preview?.height], [160, 120]);
    assert.deepEqual(Buffer.from(preview!.data.buffer), Buffer.from(expected.data.buffer));
  } finally {
    await core.close();
  }
});

test('a cancelled wait stops the waiting at once, not the analysis, which stays usable', async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const photo = await sampleRaster(600, 400);
    const ahead = core.analyseAhead(photo, 2048);
    const controller = new AbortController();
    const waiting = core.aheadEstimate(photo, controller.signal, () => {});
    await new Promise((res) => setTimeout(res, 200));
    const t = performance.now();
    controller.abort();
    await assert.rejects(waiting, (err: Error) => err.name === 'AbortError');
    assert.ok(performance.now() - t < 100);
    assert.ok((await ahead)?.regions.length);
    assert.equal(await core.aheadEstimate(photo, never, () => {}), await ahead);
  } finally {
    await core.close();
  }
});

test("opening another photo stops the first one's analysis", async () => {
  const core = new WarmMapCore(twoThreads);
  try {
    const first = await sampleRaster(600, 400);
    const stopped = core.analyseAhead(first, 2048);
    const second = core.analyseAhead(await sampleRaster(320, 240), 2048);
    assert.equal(await stopped, null);
    assert.equal(await core.aheadEstimate(first, never, () => {}), null);
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
