import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  blurPhoto,
  blurWithOffsets,
  canonicalSign,
  createFloatImage,
  linearOffsetField,
  principalAxisMotion,
  randomShakeMotion,
  synthesizeSample,
  trajectoryOffsetField,
  type FloatImage,
} from '../../src-main/engine/synth/index.ts';

function constantField(w: number, h: number, u: number, v: number, steps: number) {
  return linearOffsetField(w, h, new Float32Array(w * h).fill(u), new Float32Array(w * h).fill(v), steps);
}

function randomImage(w: number, h: number, seed: number): FloatImage {
  const rng = new Rng(seed);
  const img = createFloatImage(w, h);
  for (let i = 0; i < img.data.length; i++) img.data[i] = rng.next();
  return img;
}

test('zero motion returns the image unchanged', () => {
  const img = randomImage(17, 11, 1);
  const out = blurWithOffsets(img, constantField(17, 11, 0, 0, 15));
  for (let i = 0; i < img.data.length; i++) assert.ok(Math.abs(out.data[i] - img.data[i]) < 1e-6);
});

test('a constant image stays constant under any motion', () => {
  const img = createFloatImage(20, 20);
  img.data.fill(0.37);
  const rng = new Rng(2);
  const shake = randomShakeMotion(rng, 20, 20, { extent: [10, 30], maxRotation: 0.05 });
  for (const field of [constantField(20, 20, 7.3, -4.1, 31), shake.field]) {
    const out = blurPhoto(img, field, { linearLight: true });
    for (const v of out.data) assert.ok(Math.abs(v - 0.37) < 1e-5);
  }
});

test('a single bright pixel under constant motion becomes a line of the expected length and direction', () => {
  const w = 41;
  const h = 41;
  const img = createFloatImage(w, h);
  const centre = 20 * w + 20;
  for (let c = 0; c < 3; c++) img.data[c * w * h + centre] = 1;
  // Half-extent 6 px along +x: every pixel sampling the point lies on the row within 6 px of it.
  const out = blurWithOffsets(img, constantField(w, h, 6, 0, 13));
  const lit: Array<[number, number]> = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (out.data[y * w + x] > 1e-6) lit.push([x, y]);
  assert.ok(lit.every(([, y]) => y === 20), 'the line is horizontal');
  const xs = lit.map(([x]) => x);
  assert.equal(Math.min(...xs), 14);
  assert.equal(Math.max(...xs), 26);
  const energy = lit.reduce((s, [x, y]) => s + out.data[y * w + x], 0);
  assert.ok(Math.abs(energy - 1) < 1e-5, 'the light is spread, not lost');
});

test('a diagonal motion blurs along the diagonal', () => {
  const w = 31;
  const img = createFloatImage(w, w);
  for (let c = 0; c < 3; c++) img.data[c * w * w + 15 * w + 15] = 1;
  const out = blurWithOffsets(img, constantField(w, w, 4, 4, 9));
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) if (out.data[y * w + x] > 1e-6) assert.equal(x, y);
});

test('in linear light a clipped highlight leaves a brighter streak than a blur on pixel values', () => {
  const w = 31;
  const img = createFloatImage(w, 1);
  img.data.fill(0.1);
  for (let c = 0; c < 3; c++) img.data[c * w + 15] = 1;
  const field = constantField(w, 1, 5, 0, 11);
  const onValues = blurPhoto(img, field, { linearLight: false });
  const linear = blurPhoto(img, field, { linearLight: true });
  const boosted = blurPhoto(img, field, { linearLight: true, highlight: { threshold: 0.9, gain: 4 } });
  assert.ok(linear.data[15] > onValues.data[15]);
  assert.ok(boosted.data[15] > linear.data[15]);
  assert.ok(boosted.data.every((v) => v <= 1), 'clipped after blurring');
});

test('the canonical sign flips vectors into the half-plane y ≥ 0', () => {
  assert.deepEqual(canonicalSign(3, -2), [-3, 2]);
  assert.deepEqual(canonicalSign(-3, 2), [-3, 2]);
  assert.deepEqual(canonicalSign(-1, 0), [1, 0]);
  assert.deepEqual(canonicalSign(1, 0), [1, 0]);
});

test('the principal axis of a uniform linear motion is that motion', () => {
  const path = Array.from({ length: 201 }, (_, k) => {
    const t = 1 - (2 * k) / 200;
    return { x: t * 8, y: t * -6, theta: 0 };
  });
  const m = principalAxisMotion(trajectoryOffsetField(5, 5, path));
  const [u, v] = [m[12], m[25 + 12]];
  assert.ok(Math.abs(Math.hypot(u, v) - 10) < 0.1, `half-extent ${Math.hypot(u, v)}`);
  assert.ok(Math.abs(u / v - -8 / 6) < 1e-3 && v > 0, 'direction and canonical sign');
});

test('synthetic samples are reproducible from their seed', async () => {
  const sharp = randomImage(24, 16, 3);
  for (const recipe of ['linear', 'shake', 'none'] as const) {
    const a = await synthesizeSample(sharp, recipe, new Rng(42));
    const b = await synthesizeSample(sharp, recipe, new Rng(42));
    assert.deepEqual(a.blurry.data, b.blurry.data, recipe);
  }
});
