import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, blurWithOffsets, createFloatImage, linearOffsetField, randomShakeMotion, trueKernelsAt } from '../../src-main/engine/synth/index.ts';

test('the true kernel at a pixel reproduces the blur there: b(p) = Σ k(q)·s(p − q)', () => {
  const w = 96;
  const rng = new Rng(11);
  const img = createFloatImage(w, w);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.next();
  const shake = randomShakeMotion(rng, w, w, { extent: [20, 20], maxRotation: 0.05 });
  const blurred = blurWithOffsets(img, shake.field);
  const points: Array<[number, number]> = [[48, 48], [30, 60], [65, 33]];
  const kernels = trueKernelsAt(shake.field, points);
  points.forEach(([x, y], j) => {
    const { size, data } = kernels[j];
    const r = (size - 1) / 2;
    let sum = 0;
    let v = 0;
    for (let qy = -r; qy <= r; qy++) for (let qx = -r; qx <= r; qx++) {
      const weight = data[(qy + r) * size + qx + r];
      sum += weight;
      v += weight * img.data[(y - qy) * w + x - qx];
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `kernel ${j} sums to ${sum}`);
    assert.ok(Math.abs(v - blurred.data[y * w + x]) < 1e-5, `pixel ${x},${y}: ${v} vs ${blurred.data[y * w + x]}`);
  });
});

test('a linear blur of half-extent f along x is a centred line of 2f + 1 px', () => {
  const w = 40;
  const field = linearOffsetField(w, w, new Float32Array(w * w).fill(3), new Float32Array(w * w), 7);
  const [k] = trueKernelsAt(field, [[20, 20]]);
  const r = (k.size - 1) / 2;
  for (let qx = -r; qx <= r; qx++) assert.ok(Math.abs(k.data[r * k.size + qx + r] - (Math.abs(qx) <= 3 ? 1 / 7 : 0)) < 1e-6, `column ${qx}`);
});
