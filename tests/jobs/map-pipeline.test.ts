/**
 * The MAP core with its learned parts: the refiner reads the MAP result beside the photo and runs only where blur
 * was found; the learned prior runs inside the deconvolution; which parts run follows the user's choice among
 * those installed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deblurWithMapCore, REFINE_MIN_BLUR_PX } from '../../src-main/engine/jobs/map-pipeline.ts';
import { installedLearnedParts, learnedParts, MissingPartError, partsId } from '../../src-main/engine/jobs/learned-parts.ts';
import { mapDeblurRaster } from '../../src-main/engine/map/deblur-photo.ts';
import { kernelMotion } from '../../src-main/engine/map/kernel.ts';
import { closeSessions, openSession } from '../../src-main/engine/infer/session.ts';
import { TinyOnnx } from '../helpers/tiny-onnx.ts';
import { convolvePlane } from '../helpers/convolve.ts';
import { greyCrop, planeToRaster, quantise, sampleRaster, shakeKernel } from '../helpers/blurred-sample.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'nm-map-pipeline-'));
after(async () => {
  await closeSessions();
  await rm(dir, { recursive: true, force: true });
});

/** A real 6 → 3 ONNX refiner that averages the MAP result with the photo. */
async function averagingRefiner(): Promise<string> {
  const w = new Array<number>(18).fill(0);
  for (let c = 0; c < 3; c++) w[c * 6 + c] = w[c * 6 + 3 + c] = 0.5;
  const b = new TinyOnnx();
  b.output(b.conv(b.input('input', [1, 6, 'H', 'W']), 3, { kernel: 1, weights: w, bias: [0, 0, 0] }));
  return b.save(path.join(dir, 'refiner.onnx'));
}

const blurred = async (w = 160, h = 128) => {
  return planeToRaster(quantise(convolvePlane(await greyCrop(w, h), w, h, shakeKernel())), w, h);
};

test('the refiner reads the MAP result beside the photo', async () => {
  const photo = await blurred();
  const map = await mapDeblurRaster(photo, { threads: 1 });
  const refiner = await averagingRefiner();
  const opened: string[] = [];
  const res = await deblurWithMapCore(photo, {
    parts: { refiner },
    openRefiner: (f) => (opened.push(f), openSession(f, { role: 'refine' })),
    threads: 1,
    estimate: map.estimate,
  });
  assert.deepEqual(opened, [refiner]);
  let worst = 0;
  for (let i = 0; i < photo.rgb.length; i++) worst = Math.max(worst, Math.abs(res.data[i] / 65535 - (map.data[i] / 65535 + photo.rgb[i] / 255) / 2));
  assert.ok(worst < 1e-3, `largest difference ${worst}`);
  assert.equal(res.estimate, map.estimate);
});

test('where the MAP core undid only a small blur the refiner does not run', async () => {
  const photo = await blurred();
  const { estimate } = await mapDeblurRaster(photo, { threads: 1 });
  // the same regions with a 3 px kernel: deconvolved, but below the refiner's blur size
  const small = { size: 3, data: Float32Array.from([0, 0, 0, 1 / 3, 1 / 3, 1 / 3, 0, 0, 0]) };
  const smallBlur = { ...estimate, regions: estimate.regions.map((r) => ({ ...r, kernel: small, confidence: 1 })) };
  assert.ok(kernelMotion(small).halfExtent < REFINE_MIN_BLUR_PX);
  const refiner = await averagingRefiner();
  let opened = 0;
  const res = await deblurWithMapCore(photo, {
    parts: { refiner },
    openRefiner: (f) => (opened++, openSession(f, { role: 'refine' })),
    threads: 1,
    estimate: smallBlur,
  });
  assert.equal(opened, 0);
  const map = await mapDeblurRaster(photo, { threads: 1, estimate: smallBlur });
  assert.deepEqual(Buffer.from(res.data.buffer), Buffer.from(map.data.buffer));
});

test('where the MAP core finds no blur the refiner does not run and the photo comes back as it was', async () => {
  const photo = await sampleRaster(160, 128);
  const refiner = await averagingRefiner();
  let opened = 0;
  const res = await deblurWithMapCore(photo, { parts: { refiner }, openRefiner: (f) => (opened++, openSession(f, { role: 'refine' })), threads: 1 });
  assert.equal(opened, 0);
  for (let i = 0; i < photo.rgb.length; i++) assert.ok(Math.abs(res.data[i] / 65535 - photo.rgb[i] / 255) <= 1 / 255);
});

test('the learned prior runs its denoiser inside the deconvolution', async () => {
  // A real ONNX denoiser that keeps the luminance and ignores σ: plug-and-play then only re-solves the data term
  // around the hyper-Laplacian result, which must stay close to it.
  const b = new TinyOnnx();
  b.output(b.conv(b.input('input', [1, 2, 'H', 'W']), 1, { kernel: 1, weights: [1, 0], bias: [0] }));
  const denoiser = await b.save(path.join(dir, 'keep-denoiser.onnx'));
  const photo = await blurred();
  const plain = await mapDeblurRaster(photo, { threads: 1 });
  const learned = await deblurWithMapCore(photo, { parts: { denoiser }, openRefiner: () => assert.fail('no refiner'), threads: 1, estimate: plain.estimate });
  let diff = 0;
  for (let i = 0; i < plain.data.length; i++) diff += Math.abs(plain.data[i] - learned.data[i]) / 65535;
  diff /= plain.data.length;
  assert.ok(diff > 0 && diff < 0.02, `mean difference ${diff}`);
  assert.ok(learned.data.every(Number.isFinite));
  await assert.rejects(
    deblurWithMapCore(photo, { parts: { denoiser: path.join(dir, 'none.onnx') }, openRefiner: () => assert.fail('no refiner'), threads: 1, estimate: plain.estimate }),
    /none\.onnx/,
  );
});

test('a cancel during the learned prior stops the run as cancelled', async () => {
  const b = new TinyOnnx();
  b.output(b.conv(b.input('input', [1, 2, 'H', 'W']), 1, { kernel: 1, weights: [1, 0], bias: [0] }));
  const denoiser = await b.save(path.join(dir, 'keep-denoiser-2.onnx'));
  // large enough that the run is still deconvolving when the cancel comes
  const photo = await blurred(480, 320);
  const { estimate } = await mapDeblurRaster(photo, { threads: 1 });
  for (const threads of [1, 2]) {
    const controller = new AbortController();
    const run = deblurWithMapCore(photo, { parts: { denoiser }, openRefiner: () => assert.fail('no refiner'), threads, estimate, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(run, (err: Error) => err.name === 'AbortError');
  }
});

test('the parts that run are those chosen among those installed, and a missing learned prior is one clear line', async () => {
  const models = await mkdtemp(path.join(dir, 'models-'));
  assert.deepEqual(installedLearnedParts(models), { prior: false, refiner: false });
  assert.deepEqual(learnedParts({ prior: 'hand-made', refine: true }, models), {});
  assert.throws(() => learnedParts({ prior: 'learned', refine: true }, models), (e: Error) => e instanceof MissingPartError && /learned prior is not installed/.test(e.message));
  await writeFile(path.join(models, 'denoiser.onnx'), '');
  await writeFile(path.join(models, 'refiner.onnx'), '');
  assert.deepEqual(installedLearnedParts(models), { prior: true, refiner: true });
  const all = learnedParts({ prior: 'learned', refine: true }, models);
  assert.equal(partsId(all), 'map+learned-prior+refiner');
  assert.equal(partsId(learnedParts({ prior: 'hand-made', refine: false }, models)), 'map');
  // a personal model ("adapt to my photos") refines instead of the shipped refiner whenever it is selected, and batch
  // manifests tell them apart
  const personal = { id: 'personal:phone', refiner: '/user/models/phone/refiner.onnx' };
  for (const refine of [true, false]) {
    assert.deepEqual(learnedParts({ prior: 'hand-made', refine, personal }, models), { refiner: personal.refiner, refinerId: 'personal:phone' });
  }
  assert.equal(partsId(learnedParts({ prior: 'hand-made', refine: false, personal }, models)), 'map+refiner(personal:phone)');
});
