/**
 * The MAP core's fast numerics agree with their plain definitions: the selection behind medians and gradient
 * thresholds, and the blurs (the WebAssembly loops have their own, kernels.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxBlur3, gaussianBlur, type Plane } from '../../src-main/engine/map/plane.ts';
import { selectNth } from '../../src-main/engine/map/select-nth.ts';
import { centroid, kernelMotion, shrinkKernel } from '../../src-main/engine/map/kernel.ts';

/** A fixed pseudo-random sequence in [0, 1). */
function sequence(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648));
}

test('selectNth gives the element a sort would put at that index, duplicates included', () => {
  for (const [n, seed] of [[1, 1], [2, 2], [7, 3], [100, 4], [1001, 5]]) {
    const values = sequence(n, seed).map((v) => Math.round(v * 20) / 20); // many ties
    const sorted = values.slice().sort();
    for (let nth = 0; nth < n; nth += Math.max(1, Math.floor(n / 13))) assert.equal(selectNth(values.slice(), nth), sorted[nth]);
  }
});

test('a Gaussian blur is the separable sum over its taps, edges replicated', () => {
  const [w, h] = [90, 70];
  const mask: Plane = { width: w, height: h, data: new Float32Array(w * h) };
  for (const [x, y] of [[3, 2], [45, 35], [88, 69], [60, 10]]) mask.data[y * w + x] = 1;
  const sigma = 4;
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const clampX = (x: number) => Math.min(w - 1, Math.max(0, x));
  const clampY = (y: number) => Math.min(h - 1, Math.max(0, y));
  const rows = Float64Array.from({ length: w * h }, (_, i) => k.reduce((s, kv, j) => s + (kv / sum) * mask.data[Math.floor(i / w) * w + clampX((i % w) + j - r)], 0));
  const expected = Float64Array.from({ length: w * h }, (_, i) => k.reduce((s, kv, j) => s + (kv / sum) * rows[clampY(Math.floor(i / w) + j - r) * w + (i % w)], 0));
  const got = gaussianBlur(mask, sigma).data;
  for (let i = 0; i < w * h; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-6, `pixel ${i}: ${got[i]} vs ${expected[i]}`);
});

test('three box passes stand in for a Gaussian: a point keeps its mass and spreads as wide as asked, to within the half pixel that whole box widths allow', () => {
  const [w, h] = [161, 161];
  const point: Plane = { width: w, height: h, data: new Float32Array(w * h) };
  point.data[80 * w + 80] = 1;
  for (const sigma of [3, 7, 15, 22.5]) {
    const spread = boxBlur3(point, sigma).data;
    let mass = 0;
    let variance = 0;
    for (let i = 0; i < w * h; i++) {
      mass += spread[i];
      variance += spread[i] * ((i % w) - 80) ** 2;
    }
    assert.ok(Math.abs(mass - 1) < 1e-4, `σ ${sigma}: mass ${mass}`);
    assert.ok(Math.abs(Math.sqrt(variance) - sigma) <= 0.5, `σ ${sigma}: spread ${Math.sqrt(variance).toFixed(2)} px`);
  }
});

test('a kernel shrunk with its photo keeps its mass, its centre and its shape, at the smaller length', () => {
  // a 21 px diagonal streak, one pixel wide: sampling it at every other pixel could step over it
  const n = 21;
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) data[i * n + i] = 1 / n;
  const shrunk = shrinkKernel({ size: n, data }, 2);
  const sum = shrunk.data.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-6, `mass ${sum}`);
  const m = kernelMotion(shrunk);
  assert.ok(Math.abs(m.halfExtent - kernelMotion({ size: n, data }).halfExtent / 2) < 0.5, `half-extent ${m.halfExtent}`);
  assert.ok(Math.abs(Math.abs(m.u) - Math.abs(m.v)) < 0.2, 'still diagonal');
  const [cx, cy] = centroid(shrunk);
  assert.ok(Math.abs(cx - (shrunk.size - 1) / 2) < 1e-3 && Math.abs(cy - (shrunk.size - 1) / 2) < 1e-3);
});
