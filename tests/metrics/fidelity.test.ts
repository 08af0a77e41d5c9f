import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psnr, ssim } from '../../src-main/engine/metrics/fidelity.ts';
import { Rng, createFloatImage, blurWithOffsets, linearOffsetField } from '../../src-main/engine/synth/index.ts';

function noiseImage(w: number, h: number, seed: number) {
  const img = createFloatImage(w, h);
  const rng = new Rng(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.next();
  return img;
}

test('PSNR of identical images is infinite; of a constant offset 0.1 it is 20 dB', () => {
  const a = noiseImage(16, 16, 1);
  assert.equal(psnr(a, a), Infinity);
  const b = createFloatImage(16, 16);
  const c = createFloatImage(16, 16);
  b.data.fill(0.5);
  c.data.fill(0.6);
  assert.ok(Math.abs(psnr(b, c) - 20) < 1e-4);
});

test('SSIM is 1 for identical images and drops with blur', () => {
  const a = noiseImage(40, 40, 2);
  assert.ok(Math.abs(ssim(a, a) - 1) < 1e-9);
  const field = linearOffsetField(40, 40, new Float32Array(1600).fill(3), new Float32Array(1600), 7);
  const blurred = blurWithOffsets(a, field);
  const s = ssim(a, blurred);
  assert.ok(s < 0.6 && s > 0, `ssim ${s}`);
});

test('SSIM refuses images smaller than its window', () => {
  const a = noiseImage(8, 8, 3);
  assert.throws(() => ssim(a, a), /larger than 11×11/);
});
