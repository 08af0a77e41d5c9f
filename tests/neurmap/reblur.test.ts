import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { reblur, reblurForward, REBLUR_STEPS } from '../../src-main/engine/neurmap/reblur.ts';
import { blurWithOffsets, createFloatImage, linearOffsetField, MOTION_UNIT_PX, Rng } from '../../src-main/engine/synth/index.ts';
import { useCpu } from './helpers/fixtures.ts';

before(useCpu);

function randomArray(n: number, rng: Rng, lo = 0, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

test('R uses 15 samples', () => {
  assert.equal(REBLUR_STEPS, 15);
});

test('zero motion returns the image', () => {
  const rng = new Rng(1);
  const img = tf.tensor4d(randomArray(2 * 3 * 9 * 7, rng), [2, 3, 9, 7]);
  const out = reblur(img, tf.zeros([2, 2, 9, 7]) as tf.Tensor4D);
  const a = img.dataSync();
  const b = out.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6);
  tf.dispose([img, out]);
});

test('a constant image stays constant under any motion', () => {
  const rng = new Rng(2);
  const img = tf.fill([1, 3, 12, 10], 0.42) as tf.Tensor4D;
  const motion = tf.tensor4d(randomArray(2 * 12 * 10, rng, -1.5, 1.5), [1, 2, 12, 10]);
  const out = reblur(img, motion).dataSync();
  for (const v of out) assert.ok(Math.abs(v - 0.42) < 1e-6, `got ${v}`);
  tf.dispose([img, motion]);
});

test('R(I, m) = R(I, −m): the canonical sign does not matter to R', () => {
  const rng = new Rng(3);
  const img = tf.tensor4d(randomArray(3 * 8 * 8, rng), [1, 3, 8, 8]);
  const m = tf.tensor4d(randomArray(2 * 64, rng, -0.3, 0.3), [1, 2, 8, 8]);
  const a = reblur(img, m).dataSync();
  const b = reblur(img, tf.neg(m) as tf.Tensor4D).dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-6);
});

test('a single bright pixel under a constant motion becomes a line of the expected length and direction, as synth blurs it', () => {
  const w = 31;
  const h = 25;
  const [px, py] = [15, 12];
  const [u, v] = [0.3, 0.15]; // motion units: 6 px and 3 px each way
  const img = createFloatImage(w, h);
  for (let c = 0; c < 3; c++) img.data[c * w * h + py * w + px] = 1;
  const motion = new Float32Array(2 * w * h);
  motion.fill(u, 0, w * h);
  motion.fill(v, w * h);
  const out = reblur(tf.tensor4d(img.data, [1, 3, h, w]), tf.tensor4d(motion, [1, 2, h, w])).dataSync();
  // Mass, centroid and extent of the streak (channel 0).
  let mass = 0;
  let cx = 0;
  let cy = 0;
  let maxAlong = 0;
  let maxAcross = 0;
  const [dx, dy] = [u * MOTION_UNIT_PX, v * MOTION_UNIT_PX];
  const len = Math.hypot(dx, dy);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const val = out[y * w + x];
      if (val <= 1e-7) continue;
      mass += val;
      cx += val * x;
      cy += val * y;
      const along = ((x - px) * dx + (y - py) * dy) / len;
      const across = Math.abs((x - px) * dy - (y - py) * dx) / len;
      maxAlong = Math.max(maxAlong, Math.abs(along));
      maxAcross = Math.max(maxAcross, across);
    }
  }
  assert.ok(Math.abs(mass - 1) < 1e-5, `mass ${mass}`);
  assert.ok(Math.abs(cx / mass - px) < 1e-4 && Math.abs(cy / mass - py) < 1e-4, `centroid ${cx / mass}, ${cy / mass}`);
  // A segment from p − d to p + d: half-length |d| = √(6² + 3²) ≈ 6.7 px (plus the bilinear footprint of < 1 px), no wider than a pixel.
  assert.ok(maxAlong > len - 0.5 && maxAlong < len + 1.5, `half-length ${maxAlong} for ${len}`);
  assert.ok(maxAcross < 1.5, `width ${maxAcross}`);
  // The very same numbers as engine/synth's blur with the same constant field and 15 steps.
  const field = linearOffsetField(w, h, new Float32Array(w * h).fill(dx), new Float32Array(w * h).fill(dy), 15);
  const ref = blurWithOffsets(img, field);
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - ref.data[i]) < 1e-6, `pixel ${i}: ${out[i]} vs ${ref.data[i]}`);
});

test('R agrees with synth blurWithOffsets on a spatially varying field, borders included', () => {
  const rng = new Rng(9);
  const w = 14;
  const h = 11;
  const img = createFloatImage(w, h);
  img.data.set(randomArray(3 * w * h, rng));
  const m = randomArray(2 * w * h, rng, -0.6, 0.6); // up to 12 px: many samples clamp at the border
  const field = linearOffsetField(w, h, m.slice(0, w * h).map((x) => x * MOTION_UNIT_PX), m.slice(w * h).map((x) => x * MOTION_UNIT_PX), 15);
  const ref = blurWithOffsets(img, field);
  const out = reblurForward(img.data, m, 1, 3, h, w);
  for (let i = 0; i < out.length; i++) assert.ok(Math.abs(out[i] - ref.data[i]) < 2e-6, `pixel ${i}: ${out[i]} vs ${ref.data[i]}`);
});

/** Σ W ⊙ R(I, m), accumulated in double precision. */
function weightedSum(img: Float32Array, mot: Float32Array, weights: Float32Array, n: number, h: number, w: number): number {
  const out = reblurForward(img, mot, n, 3, h, w);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * weights[i];
  return s;
}

function analyticGradients(img: Float32Array, mot: Float32Array, weights: Float32Array, n: number, h: number, w: number) {
  const I = tf.tensor4d(img, [n, 3, h, w]);
  const M = tf.tensor4d(mot, [n, 2, h, w]);
  const W = tf.tensor4d(weights, [n, 3, h, w]);
  // Each gradient on its own, the other input held fixed (R's gradient computes only what is asked for).
  const gI = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reblur(a as tf.Tensor4D, M), W)))(I);
  const gM = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(reblur(I, b as tf.Tensor4D), W)))(M);
  const out = { dImage: gI.dataSync().slice(), dMotion: gM.dataSync().slice() };
  tf.dispose([I, M, W, gI, gM]);
  return out;
}

test('finite differences: the gradient with respect to the image', () => {
  const rng = new Rng(4);
  const [n, h, w] = [2, 9, 8];
  const img = randomArray(n * 3 * h * w, rng);
  const mot = randomArray(n * 2 * h * w, rng, -0.35, 0.35);
  const weights = randomArray(n * 3 * h * w, rng, -1, 1);
  const { dImage } = analyticGradients(img, mot, weights, n, h, w);
  const eps = 1e-2; // R is linear in I: the central difference is exact up to rounding
  for (let k = 0; k < 60; k++) {
    const i = rng.int(0, img.length);
    const p = img.slice();
    const m = img.slice();
    p[i] += eps;
    m[i] -= eps;
    const fd = (weightedSum(p, mot, weights, n, h, w) - weightedSum(m, mot, weights, n, h, w)) / (2 * eps);
    assert.ok(Math.abs(fd - dImage[i]) < 1e-4 + 1e-3 * Math.abs(fd), `image[${i}]: fd ${fd}, analytic ${dImage[i]}`);
  }
});

test('finite differences: the gradient with respect to the motion map (clamped borders included)', () => {
  const rng = new Rng(5);
  const [n, h, w] = [2, 9, 8];
  const img = randomArray(n * 3 * h * w, rng);
  const mot = randomArray(n * 2 * h * w, rng, -0.5, 0.5);
  const weights = randomArray(n * 3 * h * w, rng, -1, 1);
  const { dMotion } = analyticGradients(img, mot, weights, n, h, w);
  const eps = 5e-4; // 0.01 px at m = 1; small enough for few kinks, large enough for float32 outputs
  let checked = 0;
  let kinks = 0;
  for (let k = 0; k < 120; k++) {
    const i = rng.int(0, mot.length);
    const f = (delta: number) => {
      const q = mot.slice();
      q[i] += delta;
      return weightedSum(img, q, weights, n, h, w);
    };
    const f0 = f(0);
    const fwd = (f(eps) - f0) / eps;
    const bwd = (f0 - f(-eps)) / eps;
    // Within a pixel cell a bilinear sample is linear in u (and in v), so one-sided differences agree unless a
    // coordinate crosses a pixel centre or the clamp within ±eps (a kink): skip those points.
    if (Math.abs(fwd - bwd) > 5e-4 + 1e-3 * Math.abs(fwd)) {
      kinks++;
      continue;
    }
    const fd = (fwd + bwd) / 2;
    assert.ok(Math.abs(fd - dMotion[i]) < 1e-3 + 5e-3 * Math.abs(fd), `motion[${i}]: fd ${fd}, analytic ${dMotion[i]}`);
    checked++;
  }
  assert.ok(checked >= 80, `only ${checked} points checked (${kinks} at kinks)`);
  // The motion gradient is not trivially zero.
  assert.ok(dMotion.some((g) => Math.abs(g) > 1e-2));
});

test('gradients flow through R to both inputs inside a larger graph, and nothing leaks', () => {
  const rng = new Rng(6);
  const before = tf.memory().numTensors;
  const I = tf.tidy(() => tf.variable(tf.tensor4d(randomArray(3 * 64, rng), [1, 3, 8, 8])));
  const M = tf.tidy(() => tf.variable(tf.tensor4d(randomArray(2 * 64, rng, -0.2, 0.2), [1, 2, 8, 8])));
  const target = tf.tensor4d(randomArray(3 * 64, rng), [1, 3, 8, 8]);
  for (let it = 0; it < 3; it++) {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(reblur(I as unknown as tf.Tensor4D, M as unknown as tf.Tensor4D), target))) as tf.Scalar, [I, M]);
    assert.ok(tf.tidy(() => tf.max(tf.abs(grads[I.name])).dataSync()[0]) > 0);
    assert.ok(tf.tidy(() => tf.max(tf.abs(grads[M.name])).dataSync()[0]) > 0);
    tf.dispose([value, ...Object.values(grads)]);
  }
  tf.dispose([I, M, target]);
  assert.equal(tf.memory().numTensors, before);
});
