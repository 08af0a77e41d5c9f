import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyStrength, protectFactor, protectMap } from '../../src-main/engine/infer/strength.ts';
import { deblurRaster, resultToRaster, type DeblurResult } from '../../src-main/engine/infer/deblur.ts';
import { estimateMotion, type MotionField } from '../../src-main/engine/infer/motion.ts';
import { openSession, closeSessions } from '../../src-main/engine/infer/session.ts';
import { createRaster } from '../../src-main/engine/image/raster.ts';
import { tinyDeblur, colourMotion } from '../helpers/tiny-onnx.ts';
import { randomRaster, fillRect } from '../helpers/rasters.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'nm-strength-'));
after(async () => {
  await closeSessions();
  await rm(dir, { recursive: true, force: true });
});

const g = await openSession(await tinyDeblur(5, 4, 0.6).save(path.join(dir, 'g.onnx')), { role: 'deblur', providers: ['cpu'] });

test('strength 0 returns the input exactly, 1 the network output', async () => {
  for (const depth of [8, 16] as const) {
    const r = randomRaster(90, 70, depth, 3);
    r.alpha = depth === 8 ? Uint8Array.from({ length: 90 * 70 }, (_, i) => i & 255) : null;
    const res = await deblurRaster(g, r, { tileSize: 64, overlap: 16 });
    const s0 = applyStrength(r, res, 0);
    assert.deepEqual(s0.rgb, r.rgb);
    assert.notEqual(s0.rgb, r.rgb, 'a new buffer');
    assert.equal(s0.depth, depth);
    assert.deepEqual(s0.alpha, r.alpha, 'alpha carried through');
    const s1 = applyStrength(r, res, 1);
    assert.deepEqual(s1.rgb, resultToRaster(res, depth).rgb, `strength 1 = network output at ${depth} bits`);
    let changed = 0;
    for (let i = 0; i < r.rgb.length; i++) if (s1.rgb[i] !== r.rgb[i]) changed++;
    assert.ok(changed > r.rgb.length / 2, 'the tiny network does change the image');
  }
});

function synthetic(width: number, height: number, g8: number[]): DeblurResult {
  const data = new Uint16Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = g8[i % g8.length] * 257;
  return { width, height, data, model: 'synthetic', provider: 'cpu', tiles: 1, tileWidth: width, tileHeight: height, seconds: 0, waitSeconds: 0 };
}

test('strength above 1 extrapolates and clips; in between interpolates', () => {
  const r = createRaster(2, 1, 8);
  r.rgb.set([100, 100, 100, 100, 100, 100]);
  const res = synthetic(2, 1, [200, 150, 20, 100, 90, 255]);
  assert.deepEqual([...applyStrength(r, res, 2).rgb], [255, 200, 0, 100, 80, 255]);
  assert.deepEqual([...applyStrength(r, res, 1.5).rgb], [250, 175, 0, 100, 85, 255]);
  assert.deepEqual([...applyStrength(r, res, 0.5).rgb], [150, 125, 60, 100, 95, 178]);
  assert.throws(() => applyStrength(r, res, 2.01), /strength must be in \[0, 2\]/);
  assert.throws(() => applyStrength(r, res, -0.1), RangeError);
  assert.throws(() => applyStrength(r, res, Number.NaN), RangeError);
  assert.throws(() => applyStrength(createRaster(3, 1, 8), res, 1), /result is 2×1, photo is 3×1/);
});

test('strength is rendered again without the network (same result object, any strength)', async () => {
  const r = randomRaster(64, 48, 16, 8);
  const res = await deblurRaster(g, r);
  const out = createRaster(64, 48, 16);
  for (const s of [0, 0.25, 1, 1.75, 2]) {
    const a = applyStrength(r, res, s, { out });
    assert.equal(a, out, 'written into the given raster');
    for (let i = 0; i < 30; i++) {
      const want = Math.min(65535, Math.max(0, Math.round(r.rgb[i] + s * (res.data[i] - r.rgb[i]))));
      assert.ok(Math.abs(a.rgb[i] - want) <= 1);
    }
  }
});

test('protect-sharp factor: 0 without motion, 1 above a few px, smooth in between', () => {
  assert.equal(protectFactor(0), 0);
  assert.equal(protectFactor(1), 0);
  assert.equal(protectFactor(4), 1);
  assert.equal(protectFactor(12), 1);
  let prev = 0;
  for (let m = 1; m <= 4; m += 0.1) {
    const f = protectFactor(m);
    assert.ok(f >= prev && f <= 1);
    prev = f;
  }
  assert.ok(Math.abs(protectFactor(2.5) - 0.5) < 1e-9);
});

function field(width: number, height: number, f: (x: number, y: number) => [number, number]): MotionField {
  const unitPx = 20;
  const pxPerCount = unitPx / 32767;
  const data = new Int16Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [u, v] = f(x, y);
      data[2 * (y * width + x)] = Math.round(u / pxPerCount);
      data[2 * (y * width + x) + 1] = Math.round(v / pxPerCount);
    }
  }
  return { width, height, data, pxPerCount, unitPx };
}

test('protect sharp areas lowers the strength where the motion is 0', () => {
  const W = 30;
  const H = 10;
  const r = createRaster(W, H, 8);
  r.rgb.fill(100);
  const res = synthetic(W, H, [160]);
  // columns 0–9: no motion, 10–19: 2.5 px, 20–29: 10 px
  const mf = field(W, H, (x) => (x < 10 ? [0, 0] : x < 20 ? [1.5, 2] : [6, 8]));
  const out = applyStrength(r, res, 1, { protect: { field: mf } });
  const at = (x: number) => out.rgb[3 * (5 * W + x)];
  assert.equal(at(3), 100, 'sharp area untouched');
  assert.equal(at(25), 160, 'blurred area gets the full strength');
  assert.equal(at(15), 130, 'half way between (smoothstep at the middle of 1…4 px)');
  const plain = applyStrength(r, res, 1);
  assert.equal(plain.rgb[3 * (5 * W + 3)], 160, 'without protection the sharp area changes');
  // strength 2 with protection: extrapolation only where there is motion
  const two = applyStrength(r, res, 2, { protect: { field: mf, lowPx: 0.5, highPx: 2 } });
  assert.equal(two.rgb[3 * (5 * W + 3)], 100);
  assert.equal(two.rgb[3 * (5 * W + 25)], 220);
  assert.equal(two.rgb[3 * (5 * W + 15)], 220, 'custom ramp: 2.5 px is above highPx');
});

test('protection map is sampled when the motion field has another size (e.g. a preview)', () => {
  const mf = field(10, 10, (x) => (x < 5 ? [0, 0] : [0, 10]));
  const k = protectMap(mf, 40, 20);
  assert.equal(k.length, 800);
  assert.equal(k[0], 0);
  assert.equal(k[39], 1);
  assert.equal(k[19 * 40 + 19], 0);
  assert.equal(k[19 * 40 + 20], 1);
  assert.throws(() => protectMap(mf, 4, 4, { lowPx: 3, highPx: 2 }), RangeError);
});

test('protect sharp areas end to end with a tiny M: the in-focus half stays as shot', async () => {
  const m = await openSession(await colourMotion(4).save(path.join(dir, 'm.onnx')), { role: 'motion', providers: ['cpu'] });
  const W = 96;
  const H = 64;
  const r = randomRaster(W, H, 8, 12);
  // left half: R = G = 128 → m = 0 (sharp); right half: R = G = 255 → |m| ≈ 0.96·20·√2 px (blurred)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 3 * (y * W + x);
      r.rgb[i] = x < W / 2 ? 128 : 255;
      r.rgb[i + 1] = x < W / 2 ? 128 : 255;
    }
  }
  fillRect(r, 0, 0, 1, 1, [128, 128, 0]);
  const motion = await estimateMotion(m, r, { tileSize: 64, overlap: 16 });
  const res = await deblurRaster(g, r, { tileSize: 64, overlap: 16 });
  const out = applyStrength(r, res, 1, { protect: { field: motion.field } });
  const full = applyStrength(r, res, 1);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 3 * (y * W + x) + c;
        if (x < W / 2) assert.equal(out.rgb[i], r.rgb[i], `sharp pixel ${x},${y} unchanged`);
        else assert.equal(out.rgb[i], full.rgb[i], `blurred pixel ${x},${y} at full strength`);
      }
    }
  }
});
