import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  blurryMotionToUpperLimit,
  l1,
  lsgan,
  magnitudeOrder,
  msSsim,
  msSsimScales,
  mse,
  offsetTotalVariation,
  sharpImagePrior,
  SharpMotionPool,
  totalVariation,
} from '../../src-main/engine/neurmap/losses.ts';
import { canonicalMotion, stopGradient } from '../../src-main/engine/neurmap/tensor-ops.ts';
import { REBLUR_STEPS } from '../../src-main/engine/neurmap/reblur.ts';
import { ssim } from '../../src-main/engine/metrics/fidelity.ts';
import { blurWithOffsets, canonicalSign, createFloatImage, linearOffsetField, Rng, stepPosition } from '../../src-main/engine/synth/index.ts';
import { useCpu } from './helpers/fixtures.ts';

before(useCpu);

const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

function noise(n: number, rng: Rng, lo = 0, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

test('L1, MSE, LSGAN and TV on known values', () => {
  const a = tf.tensor4d([0, 1, 2, 3], [1, 1, 2, 2]);
  const b = tf.tensor4d([1, 1, 1, 1], [1, 1, 2, 2]);
  assert.equal(scalar(l1(a, b)), 1);
  assert.equal(scalar(mse(a, b)), 1.5);
  assert.equal(scalar(lsgan(b, true)), 0);
  assert.equal(scalar(lsgan(b, false)), 1);
  // rows [0 1; 2 3]: horizontal |1−0|, |3−2| → 1; vertical |2−0|, |3−1| → 2
  assert.equal(scalar(totalVariation(a)), 3);
});

test('MS-SSIM uses as many scales as the crop allows', () => {
  assert.equal(msSsimScales(256, 256), 5);
  assert.equal(msSsimScales(128, 128), 4);
  assert.equal(msSsimScales(32, 32), 2);
  assert.equal(msSsimScales(16, 16), 1);
  assert.equal(msSsimScales(8, 8), 1);
});

test('MS-SSIM is 1 for identical images, drops with blur, and with one scale equals the SSIM of engine/metrics', () => {
  const rng = new Rng(1);
  const img = createFloatImage(16, 16);
  img.data.set(noise(3 * 256, rng));
  const blurred = blurWithOffsets(img, linearOffsetField(16, 16, new Float32Array(256).fill(2), new Float32Array(256).fill(1), 9));
  const A = tf.tensor4d(img.data, [1, 3, 16, 16]);
  const B = tf.tensor4d(blurred.data, [1, 3, 16, 16]);
  assert.ok(Math.abs(scalar(msSsim(A, A)) - 1) < 1e-5);
  const ours = scalar(msSsim(A, B));
  const ref = ssim(img, blurred);
  assert.ok(ours < 0.8, `ms-ssim ${ours}`);
  assert.ok(Math.abs(ours - ref) < 1e-4, `ours ${ours}, engine/metrics ${ref}`);
  // Two scales at 32 px, and a gradient for both inputs.
  const C = tf.tensor4d(noise(2 * 3 * 32 * 32, rng), [2, 3, 32, 32]);
  const D = tf.tensor4d(noise(2 * 3 * 32 * 32, rng), [2, 3, 32, 32]);
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => msSsim(x as tf.Tensor4D, y as tf.Tensor4D))([C, D]);
  assert.ok(tf.tidy(() => tf.max(tf.abs(ga)).dataSync()[0]) > 0 && Number.isFinite(tf.tidy(() => tf.sum(gb).dataSync()[0])));
  tf.dispose([A, B, C, D, ga, gb]);
});

test('canonical sign: flips into v ≥ 0 as engine/synth does, and passes the gradient with the same sign', () => {
  const vecs: Array<[number, number]> = [
    [0.3, 0.2],
    [0.3, -0.2],
    [-0.4, 0],
    [0.4, 0],
    [-0.1, -0.7],
    [0, 0],
  ];
  const m = tf.tensor4d([...vecs.map((v) => v[0]), ...vecs.map((v) => v[1])], [1, 2, 1, vecs.length]);
  const out = canonicalMotion(m).dataSync();
  vecs.forEach(([u, v], i) => {
    const [cu, cv] = canonicalSign(u, v);
    assert.ok(Math.abs(out[i] - cu) < 1e-7 && Math.abs(out[vecs.length + i] - cv) < 1e-7, `(${u}, ${v})`);
  });
  const g = tf.grad((x: tf.Tensor) => tf.sum(canonicalMotion(x as tf.Tensor4D)))(m).dataSync();
  vecs.forEach(([u, v], i) => {
    const s = canonicalSign(u, v)[1] !== v || canonicalSign(u, v)[0] !== u ? -1 : 1;
    assert.equal(g[i], s);
    assert.equal(g[vecs.length + i], s);
  });
  m.dispose();
});

test('stopGradient passes values and blocks gradients', () => {
  const x = tf.tensor1d([1, 2, 3]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.add(tf.mul(t, 2), tf.square(stopGradient(t)))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [2, 2, 2]);
  tf.dispose([x, g]);
});

test('motion losses: upper limit, magnitude order, sharp prior, offset TV', () => {
  // |m(B)| element-wise vs 1
  const mb = tf.tensor4d([0.5, -1, 1, 2], [1, 2, 1, 2]);
  assert.ok(Math.abs(scalar(blurryMotionToUpperLimit(mb)) - (0.5 + 0 + 0 + 1) / 4) < 1e-7);
  // ‖m(G(B))‖ = 5 vs ‖m(B)‖ = 1 at the first pixel, 0 vs 1 at the second
  const mf = tf.tensor4d([3, 0, 4, 0], [1, 2, 1, 2]);
  const mbb = tf.tensor4d([1, 1, 0, 0], [1, 2, 1, 2]);
  assert.ok(Math.abs(scalar(magnitudeOrder(mf, mbb)) - 2) < 1e-5);
  // sharp prior: mean((|m| − μ)²)
  assert.ok(Math.abs(scalar(sharpImagePrior(mf, [1, 2])) - ((3 - 1) ** 2 + (0 - 1) ** 2 + (4 - 2) ** 2 + (0 - 2) ** 2) / 4) < 1e-6);
  // TV of the 15 sampling offsets t_k·20·m, materialised, equals the closed form
  const rng = new Rng(3);
  const m = tf.tensor4d(noise(2 * 2 * 5 * 6, rng, -1, 1), [2, 2, 5, 6]);
  const explicit = tf.tidy(() => {
    const offsets = tf.stack(Array.from({ length: REBLUR_STEPS }, (_, k) => tf.mul(m, 20 * stepPosition(k, REBLUR_STEPS))), 1); // [N, 15, 2, H, W]
    const o = tf.reshape(offsets, [2 * 15, 2, 5, 6]) as tf.Tensor4D;
    return totalVariation(o).dataSync()[0];
  });
  assert.ok(Math.abs(scalar(offsetTotalVariation(m)) - explicit) < 1e-4 * explicit);
  tf.dispose([mb, mf, mbb, m]);
});

test('the sharp-map pool keeps the last N maps, first in first out, and round-trips through JSON', () => {
  const pool = new SharpMotionPool(3);
  assert.deepEqual(pool.mean(), [0, 0]);
  pool.push([
    [1, 10],
    [2, 20],
  ]);
  pool.push([
    [3, 30],
    [4, 40],
  ]);
  assert.equal(pool.size, 3);
  assert.deepEqual(pool.mean(), [3, 30]);
  const again = SharpMotionPool.fromJSON(JSON.parse(JSON.stringify(pool.toJSON())));
  assert.deepEqual(again.mean(), [3, 30]);
});
