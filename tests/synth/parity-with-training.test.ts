import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  arrayOffsetField,
  blurPhoto,
  canonicalSign,
  principalAxisMotion,
  trajectoryOffsetField,
  MOTION_UNIT_PX,
  type FloatImage,
} from '../../src-main/engine/synth/index.ts';

// training/parity_fixture.py writes these with training/blur.py; engine/synth must give the same images.
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'synth-parity');
const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
const { width: W, height: H } = meta;
const TOL = meta.tolerance_in_255ths / 255;

function load(name: string): Float32Array {
  const buf = fs.readFileSync(path.join(dir, meta.files[name].file));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** HWC (the fixture's layout) → planar CHW (engine/synth's). */
function planar(hwc: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(hwc.length);
  const plane = W * H;
  for (let i = 0; i < plane; i++) for (let c = 0; c < channels; c++) out[c * plane + i] = hwc[channels * i + c];
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const sharp: FloatImage = { width: W, height: H, data: planar(load('sharp'), 3) };
const highlight = { threshold: meta.linear_light.threshold, gain: meta.linear_light.gain };
const shakePath = (meta.shake_trajectory_x_y_theta as number[][]).map(([x, y, theta]) => ({ x, y, theta }));

test('the linear-field blur matches training/ within 1/255, in linear light and on pixel values', () => {
  const field = arrayOffsetField(W, H, meta.k_linear, load('offsets_linear'));
  assert.ok(maxDiff(blurPhoto(sharp, field, { linearLight: true, highlight }).data, planar(load('blur_linear_lin'), 3)) <= TOL);
  assert.ok(maxDiff(blurPhoto(sharp, field, { linearLight: false }).data, planar(load('blur_linear_pix'), 3)) <= TOL);
});

test('camera-shake offsets from the same trajectory are the same, and so are the blurred images', () => {
  const ours = trajectoryOffsetField(W, H, shakePath);
  const theirs = load('offsets_shake');
  const dx = new Float32Array(W * H);
  const dy = new Float32Array(W * H);
  for (let k = 0; k < ours.steps; k++) {
    ours.fill(k, dx, dy);
    for (let i = 0; i < W * H; i++) {
      assert.ok(Math.abs(dx[i] - theirs[(k * W * H + i) * 2]) < 1e-3 && Math.abs(dy[i] - theirs[(k * W * H + i) * 2 + 1]) < 1e-3);
    }
  }
  assert.ok(maxDiff(blurPhoto(sharp, ours, { linearLight: true, highlight }).data, planar(load('blur_shake_lin'), 3)) <= TOL);
  assert.ok(maxDiff(blurPhoto(sharp, ours, { linearLight: false }).data, planar(load('blur_shake_pix'), 3)) <= TOL);
});

test('the motion targets for M agree: the linear field itself, and the principal axis of a shake', () => {
  const lin = load('motion_linear');
  const offsets = load('offsets_linear');
  // The linear field f is the first step's offset (t_0 = +1), canonical sign, in units of 20 px.
  for (let i = 0; i < W * H; i++) {
    const [u, v] = canonicalSign(offsets[2 * i], offsets[2 * i + 1]);
    assert.ok(Math.abs(u / MOTION_UNIT_PX - lin[2 * i]) < 1e-4 && Math.abs(v / MOTION_UNIT_PX - lin[2 * i + 1]) < 1e-4);
  }
  const shake = load('motion_shake');
  const ours = principalAxisMotion(trajectoryOffsetField(W, H, shakePath));
  let worst = 0;
  for (let i = 0; i < W * H; i++) {
    const a = [ours[i] / MOTION_UNIT_PX, ours[W * H + i] / MOTION_UNIT_PX];
    const b = [shake[2 * i], shake[2 * i + 1]];
    // Sign-free: a vector and its negation are the same blur (they differ only where v ≈ 0).
    worst = Math.max(worst, Math.min(Math.hypot(a[0] - b[0], a[1] - b[1]), Math.hypot(a[0] + b[0], a[1] + b[1])));
  }
  assert.ok(worst < 1e-3, `worst difference ${worst}`);
});
