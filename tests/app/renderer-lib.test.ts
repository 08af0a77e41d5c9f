/** Pure parts of the editor: strength blending, quiver geometry, formatting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendInto, makeDelta } from '../../src-renderer/lib/blend.ts';
import { HEAT_STOPS, quiverArrows, quiverStride, scaleTicks } from '../../src-renderer/lib/quiver.ts';
import { colormapStops } from '../../src-main/engine/infer/motion-render.ts';
import { formatEta, exifLines } from '../../src-renderer/lib/format.ts';

test('strength blend: out = before + s·(after − before), clipped', () => {
  const before = new Uint8ClampedArray([100, 200, 10, 255, 0, 0, 0, 255]);
  const after = new Uint8ClampedArray([150, 100, 20, 255, 255, 255, 255, 255]);
  const delta = makeDelta(before, after);
  const out = new Uint8ClampedArray(8);
  blendInto(out, before, delta, 0);
  assert.deepEqual([...out], [...before]);
  blendInto(out, before, delta, 1);
  assert.deepEqual([...out], [...after]);
  blendInto(out, before, delta, 0.5);
  assert.deepEqual([...out.slice(0, 4)], [125, 150, 15, 255]);
  blendInto(out, before, delta, 2);
  assert.deepEqual([...out.slice(0, 4)], [200, 0, 30, 255]);
  blendInto(out, before, delta, 5); // clamped to 2
  assert.deepEqual([...out.slice(0, 4)], [200, 0, 30, 255]);
});

test('quiver arrows are centred on their cell with the motion as length, in image pixels', () => {
  const [a] = quiverArrows({ cols: 1, rows: 1, step: 16, vectors: [[8, 8, 6, 0]] }, 1, 2);
  assert.equal(a.length, 6);
  assert.equal(a.x1, 5);
  assert.equal(a.y1, 8);
  assert.equal(a.x2, 9); // the shaft ends where the 2 px head begins; the head's tip is at x = 11
  assert.ok(a.head.startsWith('11,8 '));
  const [b] = quiverArrows({ cols: 1, rows: 1, step: 16, vectors: [[8, 8, 0, 3]] }, 2, 1);
  assert.equal(b.length, 6);
  assert.equal(b.y1, 5);
  assert.equal(quiverArrows({ cols: 1, rows: 1, step: 16, vectors: [[8, 8, 0.01, 0]] }).length, 0);
});

test('colour-scale ticks are round numbers up to the maximum', () => {
  assert.deepEqual(scaleTicks(8), [0, 2, 4, 6, 8]);
  assert.deepEqual(scaleTicks(10), [0, 2.5, 5, 7.5, 10]);
  assert.deepEqual(scaleTicks(0), [0]);
});

test('ETA and EXIF read like a person would say them', () => {
  assert.equal(formatEta(5), '5 s left');
  assert.equal(formatEta(125), '2 min 05 s left');
  assert.equal(formatEta(null), '');
  assert.deepEqual(exifLines({ make: 'Canon', model: 'EOS R5', exposureTime: 1 / 50, fNumber: 2.8, iso: 800 }), [
    ['Camera', 'Canon EOS R5'], ['Exposure', '1/50 s'], ['Aperture', 'f/2.8'], ['ISO', '800'],
  ]);
});

test("the legend's colours are the engine's heat map colours", () => {
  assert.deepEqual(HEAT_STOPS, colormapStops('inferno'));
});

test('at low zoom only every k-th arrow is drawn, on a regular sub-grid', () => {
  const vectors: Array<[number, number, number, number]> = [];
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) vectors.push([c * 10 + 5, r * 10 + 5, 2, 0]);
  const grid = { cols: 4, rows: 4, step: 10, vectors };
  assert.equal(quiverArrows(grid).length, 16);
  assert.equal(quiverStride(10, 1), 2);
  assert.equal(quiverStride(10, 2), 1);
  const sparse = quiverArrows(grid, 1, 1, 0.25, 2);
  assert.equal(sparse.length, 4);
  assert.deepEqual(sparse.map((a) => [a.x1 + 1, a.y1]), [[5, 5], [25, 5], [5, 25], [25, 25]]);
});
