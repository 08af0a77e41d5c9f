/**
 * The MAP core's shipped learned parts (models/denoiser.onnx, models/refiner.onnx from training/export.py): ONNX
 * Runtime reproduces PyTorch's output on the reference input exported beside each, and each does its job on a small
 * blurred photo: the learned prior deconvolves better than the hand-made one where the kernel is right, and the
 * refiner does not undo the MAP core's gain.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { appRoot } from '../../src-main/engine/paths.ts';
import { closeSessions, openSession } from '../../src-main/engine/infer/session.ts';
import { deblurWithMapCore } from '../../src-main/engine/jobs/map-pipeline.ts';
import { FftCache, pffft } from '../../src-main/engine/map/fft2d.ts';
import { deconvolvePlanes } from '../../src-main/engine/map/deconvolve.ts';
import { refineWithDenoiser } from '../../src-main/engine/map/image-prior.ts';
import { OnnxDenoiser } from '../../src-main/engine/map/onnx-denoiser.ts';
import { mapDeblurRaster } from '../../src-main/engine/map/deblur-photo.ts';
import { convolvePlane } from '../helpers/convolve.ts';
import { greyCrop, planeToRaster, psnr, quantise, shakeKernel } from '../helpers/blurred-sample.ts';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
const models = path.join(appRoot, 'models');
const shipped = (name: string) => fs.existsSync(path.join(models, `${name}.onnx`));
after(() => closeSessions());

for (const name of ['denoiser', 'refiner']) {
  test(`${name}.onnx: ONNX Runtime matches PyTorch on the exported reference input (max abs < 1e-4)`, { skip: !shipped(name) && `${name}.onnx is not shipped` }, async () => {
    const io = JSON.parse(fs.readFileSync(path.join(models, `${name}.io.json`), 'utf8'));
    const session = await ort.InferenceSession.create(path.join(models, `${name}.onnx`));
    const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(io.input.data), io.input.shape) });
    const got = out.output.data as Float32Array;
    assert.equal(got.length, io.output.data.length);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - io.output.data[i]));
    assert.ok(worst < 1e-4, `max abs difference ${worst}`);
    await session.release();
  });
}

/** A 256×192 crop of the sample, blurred by a known shake kernel, with a little noise, as 8-bit values. */
async function shaken(): Promise<{ sharp: Float32Array; blurry: Float32Array; w: number; h: number }> {
  const [w, h] = [256, 192];
  const sharp = await greyCrop(w, h);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  const blurry = quantise(convolvePlane(sharp, w, h, shakeKernel()).map((v) => v + noise()));
  return { sharp, blurry, w, h };
}

test('the learned prior deconvolves better than the hand-made one where the kernel is right', { skip: !shipped('denoiser') && 'denoiser.onnx is not shipped' }, async () => {
  const { sharp, blurry, w, h } = await shaken();
  const ffts = new FftCache(await pffft());
  // the data weight the engine gives this noise (λ = 0.02/σ², σ ≈ 0.0058 for uniform noise of ±0.01)
  const params = { lambda: 600, clipLevel: 1 };
  const [handMade] = deconvolvePlanes(ffts, [blurry], w, h, shakeKernel(), params);
  const denoiser = await OnnxDenoiser.open(path.join(models, 'denoiser.onnx'));
  const prior = { kind: 'denoiser', model: '', iterations: 4, sigmaStart: 0.03, sigmaEnd: 0.006, weight: 0.02 } as const;
  const learned = await refineWithDenoiser(ffts, blurry, handMade, w, h, shakeKernel(), params, prior, denoiser);
  await denoiser.close();
  const gain = psnr(learned, sharp, w, h) - psnr(handMade, sharp, w, h);
  assert.ok(gain > 0.5, `learned prior vs hand-made: ${gain.toFixed(2)} dB`);
});

test('the refiner keeps the MAP core\'s gain on a blurred photo', { skip: !shipped('refiner') && 'refiner.onnx is not shipped' }, async () => {
  const { sharp, blurry, w, h } = await shaken();
  const photo = planeToRaster(blurry, w, h);
  const map = await mapDeblurRaster(photo, { threads: 1 });
  const refined = await deblurWithMapCore(photo, {
    parts: { refiner: path.join(models, 'refiner.onnx') },
    openRefiner: (f) => openSession(f, { role: 'refine' }),
    threads: 1,
    estimate: map.estimate,
  });
  const luma = (d: Uint16Array) => Float32Array.from({ length: w * h }, (_, i) => (0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2]) / 65535);
  const gainMap = psnr(luma(map.data), sharp, w, h) - psnr(blurry, sharp, w, h);
  const gainRefined = psnr(luma(refined.data), sharp, w, h) - psnr(blurry, sharp, w, h);
  assert.ok(gainMap > 1, `the MAP core gains ${gainMap.toFixed(2)} dB`);
  assert.ok(gainRefined >= gainMap - 0.1, `MAP ${gainMap.toFixed(2)} dB, refined ${gainRefined.toFixed(2)} dB`);
});
