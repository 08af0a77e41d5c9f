/**
 * The editor's analysis ahead: the photo just opened is analysed in the background (its blur estimate, then its
 * display-sized preview) on the MAP core's warm threads; runs wait for that analysis instead of repeating it, and a
 * cancelled wait loses none of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deconvolves, mapDeblurRaster, previewOptions } from '../../src-main/engine/map/deblur-photo.ts';
import { estimatePhotoBlur } from '../../src-main/engine/map/photo-blur.ts';
import { downscaleRaster } from '../../src-main/engine/studio/previews.ts';
import { SessionProvider } from '../../src-main/engine/infer/session-provider.ts';
import { AnalysisAhead } from '../../src-main/engine/studio/analysis-ahead.ts';
import { convolvePlane } from '../helpers/convolve.ts';
import { greyCrop, planeToRaster, quantise, sampleRaster, shakeKernel } from '../helpers/blurred-sample.ts';

const never = new AbortController().signal;

/** An analysis on two warm MAP core threads, which close after `body`. */
async function withAnalysis(body: (core: AnalysisAhead) => Promise<void>): Promise<void> {
  const sessions = new SessionProvider(() => ({ executionProvider: 'cpu', threads: 2 }));
  try {
    await body(new AnalysisAhead(() => sessions.mapPool()));
  } finally {
    await sessions.close();
  }
}

async function shakenPhoto() {
  const [w, h] = [320, 240];
  return planeToRaster(quantise(convolvePlane(await greyCrop(w, h), w, h, shakeKernel())), w, h);
}

test("a photo's blur is estimated ahead, exactly as a run would estimate it, and a run waits for it with its progress", () =>
  withAnalysis(async (core) => {
    const photo = await sampleRaster(320, 240);
    void core.start(photo, 2048);
    const fractions: number[] = [];
    const ahead = await core.estimate(photo, never, (f) => fractions.push(f));
    assert.deepEqual(ahead, await estimatePhotoBlur(photo));
    assert.ok(fractions.length > 1 && fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1])), String(fractions));
    assert.equal(await core.estimate(await sampleRaster(320, 240), never, () => {}), null, 'another photo has none');
    assert.equal(await core.preview(photo, never), null, 'no preview for a photo no larger than the preview');
  }));

test('then its display-sized preview: the deblur of a smaller copy with the estimate scaled to it', () =>
  withAnalysis(async (core) => {
    const photo = await shakenPhoto();
    const estimate = await core.start(photo, 160);
    assert.ok(estimate && deconvolves(estimate));
    const preview = await core.preview(photo, never);
    const small = await downscaleRaster(photo, 160);
    const expected = await mapDeblurRaster(small.raster, { ...previewOptions(small.raster, estimate, 2), threads: 1 });
    assert.deepEqual([preview?.width, preview?.height], [160, 120]);
    assert.deepEqual(Buffer.from(preview!.data.buffer), Buffer.from(expected.data.buffer));
  }));

test('a cancelled wait stops the waiting at once, not the analysis, which stays usable', () =>
  withAnalysis(async (core) => {
    const photo = await sampleRaster(600, 400);
    const ahead = core.start(photo, 2048);
    const controller = new AbortController();
    const waiting = core.estimate(photo, controller.signal, () => {});
    await new Promise((res) => setTimeout(res, 200));
    const t = performance.now();
    controller.abort();
    await assert.rejects(waiting, (err: Error) => err.name === 'AbortError');
    assert.ok(performance.now() - t < 100);
    assert.ok((await ahead)?.regions.length);
    assert.equal(await core.estimate(photo, never, () => {}), await ahead);
  }));

test("opening another photo stops the first one's analysis", () =>
  withAnalysis(async (core) => {
    const first = await sampleRaster(600, 400);
    const stopped = core.start(first, 2048);
    const second = core.start(await sampleRaster(320, 240), 2048);
    assert.equal(await stopped, null);
    assert.equal(await core.estimate(first, never, () => {}), null);
    assert.ok((await second)?.regions.length);
  }));
