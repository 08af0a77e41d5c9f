import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  estimateMotion, motionAt, motionToFloat, motionStats, quiverGrid, MOTION_UNIT_PX, type MotionField,
} from '../../src-main/engine/infer/motion.ts';
import { heatMap, rasterToPng, renderQuiverOverlay, quiverSvg, colormapLut, colormapStops } from '../../src-main/engine/infer/motion-render.ts';
import { openSession, closeSessions } from '../../src-main/engine/infer/session.ts';
import { createRaster } from '../../src-main/engine/image/raster.ts';
import { constantMotion, colourMotion } from '../helpers/tiny-onnx.ts';
import { randomRaster } from '../helpers/rasters.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'nm-motion-'));
after(async () => {
  await closeSessions();
  await rm(dir, { recursive: true, force: true });
});

async function motionSession(name: string, u: number, v: number) {
  return openSession(await constantMotion(u, v).save(path.join(dir, name)), { role: 'motion', providers: ['cpu'] });
}

function near(a: number, b: number, tol: number, what: string) {
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
}

test('the motion map is in pixels (20·m) with the canonical sign v ≥ 0', async () => {
  assert.equal(MOTION_UNIT_PX, 20);
  const s = await motionSession('m1.onnx', 0.3, -0.4); // canonical: (−0.3, 0.4) → (−6, 8) px
  const r = randomRaster(150, 90, 8);
  const res = await estimateMotion(s, r, { tileSize: 64, overlap: 16 });
  assert.equal(res.field.width, 150);
  assert.equal(res.field.height, 90);
  const f = motionToFloat(res.field);
  for (let p = 0; p < 150 * 90; p++) {
    near(f[2 * p], -6, 0.002, 'u px');
    near(f[2 * p + 1], 8, 0.002, 'v px');
  }
  const [u, v] = motionAt(res.field, 149, 89);
  near(u, -6, 0.002, 'u');
  near(v, 8, 0.002, 'v');
  near(res.blurScore, 10, 1 / 32, 'blur score = p90 magnitude');
  near(res.stats.mean, 10, 0.01, 'mean');
  near(res.stats.max, 10, 0.01, 'max');
  assert.ok(res.tiles > 1);
});

test('already-canonical and horizontal motions', async () => {
  const a = await estimateMotion(await motionSession('m2.onnx', 0.25, 0.5), randomRaster(40, 30));
  near(motionAt(a.field, 5, 5)[0], 5, 0.002, 'u');
  near(motionAt(a.field, 5, 5)[1], 10, 0.002, 'v');
  const b = await estimateMotion(await motionSession('m3.onnx', -0.5, 0), randomRaster(40, 30));
  near(motionAt(b.field, 5, 5)[0], 10, 0.002, 'v = 0: u made positive');
  near(motionAt(b.field, 5, 5)[1], 0, 0.002, 'v = 0');
  const z = await estimateMotion(await motionSession('m4.onnx', 0, 0), randomRaster(40, 30));
  assert.equal(z.blurScore, 0);
  assert.ok(z.grid.cells.every((c) => c.u === 0 && c.v === 0 && c.magnitude === 0));
});

test('quiver grid: cells in image px, ~40 across the longer side, vectors of the constant motion', async () => {
  const s = await motionSession('m5.onnx', -0.3, -0.4); // canonical (0.3, 0.4) → (6, 8) px
  const r = randomRaster(400, 200, 8);
  const res = await estimateMotion(s, r);
  const g = res.grid;
  assert.equal(g.step, 10);
  assert.equal(g.cols, 40);
  assert.equal(g.rows, 20);
  assert.equal(g.cells.length, 800);
  assert.deepEqual([g.cells[0].x, g.cells[0].y], [5, 5]);
  assert.deepEqual([g.cells[41].x, g.cells[41].y], [15, 15]);
  for (const c of g.cells) {
    near(c.u, 6, 0.01, 'cell u');
    near(c.v, 8, 0.01, 'cell v');
    near(c.magnitude, 10, 0.01, 'cell magnitude');
    near(c.coherence, 1, 0.001, 'coherence');
  }
  const coarse = quiverGrid(res.field, { step: 64 });
  assert.equal(coarse.cols, 7);
  assert.equal(coarse.rows, 4);
  const last = coarse.cells[coarse.cells.length - 1];
  assert.deepEqual([last.x, last.y], [384 + 8, 192 + 4], 'partial last cell centred on its pixels');
  assert.ok(JSON.parse(JSON.stringify(g)).cells.length === 800, 'plain JSON');
});

function field(width: number, height: number, f: (x: number, y: number) => [number, number]): MotionField {
  const pxPerCount = 20 / 32767;
  const data = new Int16Array(width * height * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [u, v] = f(x, y);
      data[2 * (y * width + x)] = Math.round(u / pxPerCount);
      data[2 * (y * width + x) + 1] = Math.round(v / pxPerCount);
    }
  }
  return { width, height, data, pxPerCount, unitPx: 20 };
}

test('quiver cells average sign-aware: near-opposite canonical vectors (same blur axis) reinforce', () => {
  // (10, 1) and (−10, 1) are both canonical and both almost horizontal blurs: a naive mean would say (0, 1).
  const f = field(20, 20, (x) => (x % 2 ? [10, 1] : [-10, 1]));
  const c = quiverGrid(f, { step: 20 }).cells[0];
  assert.ok(Math.abs(c.u) > 9.5, `horizontal axis kept: ${c.u}`);
  assert.ok(c.v >= 0 && c.v < 0.5, `v ${c.v}`);
  near(c.magnitude, Math.hypot(10, 1), 0.01, 'mean magnitude');
  // crossing axes cancel
  const x = quiverGrid(field(20, 20, (xx) => (xx % 2 ? [10, 0] : [0, 10])), { step: 20 }).cells[0];
  assert.ok(Math.hypot(x.u, x.v) < 0.01 && x.coherence < 0.01);
});

test('blur score: the 90th percentile of the magnitude in px', () => {
  // 85 % of the pixels sharp, 15 % blurred by 12 px → p90 is in the blurred part; 5 % blurred → p90 is 0
  const a = field(100, 20, (x) => (x < 85 ? [0, 0] : [0, 12]));
  near(motionStats(a).p90, 12, 1 / 32, 'p90');
  near(motionStats(a).p50, 0, 1 / 32, 'p50');
  const b = field(100, 20, (x) => (x < 95 ? [0, 0] : [0, 12]));
  near(motionStats(b).p90, 0, 1 / 32, 'small blurred object does not dominate');
  near(motionStats(b).max, 12, 0.01, 'max');
  const c = field(100, 20, (x) => [0, x / 10]);
  near(motionStats(c).p90, 9, 0.1, 'ramp p90');
});

test('heat map: perceptual colour map, scale max in px, optional downscale, PNG', async () => {
  const f = field(64, 32, (x) => [0, (x / 63) * 10]);
  const h = heatMap(f, { maxPx: 10 });
  assert.equal(h.maxPx, 10);
  assert.equal(h.colormap, 'inferno');
  assert.equal(h.raster.width, 64);
  const lut = colormapLut('inferno');
  assert.deepEqual([...h.raster.rgb.subarray(0, 3)], [...lut.subarray(0, 3)], 'no motion = bottom of the scale');
  assert.deepEqual([...h.raster.rgb.subarray(63 * 3, 64 * 3)], [...lut.subarray(765, 768)], 'max = top');
  assert.deepEqual([...lut.subarray(765, 768)], [0xfc, 0xff, 0xa4]);
  // luminance rises monotonically along the scale (perceptual map)
  let prevL = -1;
  for (let i = 0; i < 256; i += 15) {
    const L = 0.2126 * lut[3 * i] + 0.7152 * lut[3 * i + 1] + 0.0722 * lut[3 * i + 2];
    assert.ok(L > prevL);
    prevL = L;
  }
  assert.equal(colormapStops('viridis')[0], '#440154');
  const auto = heatMap(field(10, 10, () => [0, 7.3]));
  assert.equal(auto.maxPx, 8, 'default scale: p99 rounded up');
  assert.equal(heatMap(field(10, 10, () => [0, 0.2])).maxPx, 4, 'at least 4 px');
  const small = heatMap(field(300, 100, () => [3, 4]), { maxSide: 64, colormap: 'viridis' });
  assert.equal(small.factor, 5);
  assert.deepEqual([small.raster.width, small.raster.height], [60, 20]);
  const png = await rasterToPng(h.raster);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 32]);
});

test('quiver overlay draws arrows over the photo (SVG composited with sharp)', async () => {
  const r = createRaster(200, 120, 16);
  r.rgb.fill(30000);
  const grid = quiverGrid(field(200, 120, () => [6, 8]), { step: 40 });
  const svg = quiverSvg(200, 120, grid);
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/M/g) ?? []).length >= grid.cells.length * 3, true, 'a shaft and two heads per cell');
  const out = await renderQuiverOverlay(r, grid);
  assert.equal(out.depth, 8);
  assert.deepEqual([out.width, out.height], [200, 120]);
  const grey = Math.round(30000 / 257);
  const changedAt = (x: number, y: number) => {
    const i = 3 * (y * 200 + x);
    return out.rgb[i] !== grey || out.rgb[i + 1] !== grey || out.rgb[i + 2] !== grey;
  };
  assert.ok(changedAt(20, 20), 'cell centre drawn');
  assert.ok(changedAt(23, 24), 'along the blur axis (6, 8)');
  assert.ok(!changedAt(1, 38), 'far from arrows untouched');
  // a preview-size photo gets the grid scaled to it
  const preview = createRaster(100, 60, 8);
  const p = await renderQuiverOverlay(preview, grid);
  assert.deepEqual([p.width, p.height], [100, 60]);
  assert.ok(p.rgb[3 * (10 * 100 + 10) + 1] > 0, 'cell centre scaled to the preview (cyan arrow on black)');
});

test('a motion map follows the image (tiny M driven by colour) across tiles', async () => {
  const s = await openSession(await colourMotion(4).save(path.join(dir, 'cm.onnx')), { role: 'motion', providers: ['cpu'] });
  const r = createRaster(130, 70, 8);
  for (let p = 0; p < 130 * 70; p++) {
    const x = p % 130;
    r.rgb[3 * p] = x < 65 ? 128 : 255; // u
    r.rgb[3 * p + 1] = x < 65 ? 128 : 0; // v < 0 on the right → flipped
  }
  const res = await estimateMotion(s, r, { tileSize: 64, overlap: 16 });
  const k = Math.tanh(2) * 20;
  const [u, v] = motionAt(res.field, 100, 30);
  near(u, -k, 0.01, 'flipped u');
  near(v, k, 0.01, 'flipped v');
  assert.ok(Math.hypot(...motionAt(res.field, 10, 30)) < 0.5, 'left half ~ no motion');
});
