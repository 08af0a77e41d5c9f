import { canonicalSign } from './motion-vector.ts';
import { linearOffsetField, trajectoryOffsetField, type OffsetField, type TrajectoryPoint } from './offset-field.ts';
import type { Rng } from './random.ts';

/** A motion field plus its ground truth for M: per-pixel (u, v) half-extent in pixels, canonical sign, planar 2×H×W. */
export interface SyntheticMotion {
  field: OffsetField;
  motionPx: Float32Array;
  /** The longest half-extent in the image, for per-blur-size statistics. */
  maxHalfExtentPx: number;
}

export interface LinearFieldOptions {
  /** Half-length range of the global motion in pixels (Gong et al.: up to ~20 px each way at ~1 MP). */
  halfLength: [number, number];
}

/** Smooth, spatially varying linear motion: a global direction and length, modulated by a coarse random grid. */
export function randomLinearMotion(rng: Rng, width: number, height: number, opts: LinearFieldOptions): SyntheticMotion {
  const length = rng.uniform(opts.halfLength[0], opts.halfLength[1]);
  const angle = rng.uniform(0, Math.PI);
  const grid = 3;
  const lenGrid = Array.from({ length: grid * grid }, () => length * (1 + 0.25 * (2 * rng.next() - 1)));
  const angGrid = Array.from({ length: grid * grid }, () => angle + 0.25 * (2 * rng.next() - 1));
  const fx = new Float32Array(width * height);
  const fy = new Float32Array(width * height);
  let maxLen = 0;
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const l = bilinearGrid(lenGrid, grid, x / Math.max(1, width - 1), y / Math.max(1, height - 1));
      const a = bilinearGrid(angGrid, grid, x / Math.max(1, width - 1), y / Math.max(1, height - 1));
      fx[i] = l * Math.cos(a);
      fy[i] = l * Math.sin(a);
      maxLen = Math.max(maxLen, l);
    }
  }
  const steps = Math.max(15, 2 * Math.ceil(2 * maxLen) + 1);
  const motionPx = new Float32Array(2 * width * height);
  for (let i = 0; i < fx.length; i++) {
    const [u, v] = canonicalSign(fx[i], fy[i]);
    motionPx[i] = u;
    motionPx[fx.length + i] = v;
  }
  return { field: linearOffsetField(width, height, fx, fy, steps), motionPx, maxHalfExtentPx: maxLen };
}

export interface ShakeOptions {
  /** Range of the trajectory's largest extent (end to end) in pixels. */
  extent: [number, number];
  /** Largest in-plane rotation in radians, so the blur varies across the frame. */
  maxRotation: number;
}

/** Camera shake: a random walk with momentum, centred on its mean, with a little in-plane rotation. */
export function randomShakeMotion(rng: Rng, width: number, height: number, opts: ShakeOptions): SyntheticMotion {
  const raw = shakeTrajectory(rng, 64);
  const extent = rng.uniform(opts.extent[0], opts.extent[1]);
  const span = Math.max(...raw.map((p) => Math.hypot(p.x, p.y))) * 2 || 1;
  const rotation = rng.uniform(-opts.maxRotation, opts.maxRotation);
  const thetaSpan = Math.max(...raw.map((p) => Math.abs(p.theta))) || 1;
  const path = raw.map((p) => ({ x: (p.x * extent) / span, y: (p.y * extent) / span, theta: (p.theta * rotation) / thetaSpan }));
  const field = trajectoryOffsetField(width, height, path);
  const motionPx = principalAxisMotion(field);
  let maxHalf = 0;
  const plane = width * height;
  for (let i = 0; i < plane; i++) maxHalf = Math.max(maxHalf, Math.hypot(motionPx[i], motionPx[plane + i]));
  return { field, motionPx, maxHalfExtentPx: maxHalf };
}

/** No motion at all: the network must leave sharp photos alone. */
export function noMotion(width: number, height: number): SyntheticMotion {
  return {
    field: linearOffsetField(width, height, new Float32Array(width * height), new Float32Array(width * height), 1),
    motionPx: new Float32Array(2 * width * height),
    maxHalfExtentPx: 0,
  };
}

function shakeTrajectory(rng: Rng, steps: number): TrajectoryPoint[] {
  const pts: TrajectoryPoint[] = [];
  let x = 0;
  let y = 0;
  let theta = 0;
  let vx = rng.normal();
  let vy = rng.normal();
  let vt = rng.normal();
  for (let k = 0; k < steps; k++) {
    pts.push({ x, y, theta });
    vx = 0.8 * vx + 0.6 * rng.normal();
    vy = 0.8 * vy + 0.6 * rng.normal();
    vt = 0.8 * vt + 0.6 * rng.normal();
    x += vx;
    y += vy;
    theta += vt;
  }
  const mx = pts.reduce((s, p) => s + p.x, 0) / steps;
  const my = pts.reduce((s, p) => s + p.y, 0) / steps;
  const mt = pts.reduce((s, p) => s + p.theta, 0) / steps;
  return pts.map((p) => ({ x: p.x - mx, y: p.y - my, theta: p.theta - mt }));
}

/**
 * The linear motion that best explains a non-linear one at each pixel: the principal axis of the K offsets,
 * with half-extent √(3λ·(K−1)/(K+1)), λ the largest eigenvalue of their covariance: exactly |f| for K evenly
 * spaced steps of a linear blur (training/blur.py uses the same formula), canonical sign.
 */
export function principalAxisMotion(field: OffsetField): Float32Array {
  const plane = field.width * field.height;
  const sx = new Float64Array(plane);
  const sy = new Float64Array(plane);
  const sxx = new Float64Array(plane);
  const syy = new Float64Array(plane);
  const sxy = new Float64Array(plane);
  const dx = new Float32Array(plane);
  const dy = new Float32Array(plane);
  for (let k = 0; k < field.steps; k++) {
    field.fill(k, dx, dy);
    for (let i = 0; i < plane; i++) {
      sx[i] += dx[i];
      sy[i] += dy[i];
      sxx[i] += dx[i] * dx[i];
      syy[i] += dy[i] * dy[i];
      sxy[i] += dx[i] * dy[i];
    }
  }
  const n = field.steps;
  const out = new Float32Array(2 * plane);
  for (let i = 0; i < plane; i++) {
    const mx = sx[i] / n;
    const my = sy[i] / n;
    const cxx = sxx[i] / n - mx * mx;
    const cyy = syy[i] / n - my * my;
    const cxy = sxy[i] / n - mx * my;
    const tr = cxx + cyy;
    const disc = Math.sqrt(Math.max(0, ((cxx - cyy) / 2) ** 2 + cxy * cxy));
    const lambda = Math.max(0, tr / 2 + disc);
    const angle = 0.5 * Math.atan2(2 * cxy, cxx - cyy);
    const half = n > 1 ? Math.sqrt((3 * lambda * (n - 1)) / (n + 1)) : 0;
    const [u, v] = canonicalSign(half * Math.cos(angle), half * Math.sin(angle));
    out[i] = u;
    out[plane + i] = v;
  }
  return out;
}

function bilinearGrid(values: number[], n: number, fx: number, fy: number): number {
  const gx = fx * (n - 1);
  const gy = fy * (n - 1);
  const x0 = Math.min(n - 2, Math.floor(gx));
  const y0 = Math.min(n - 2, Math.floor(gy));
  const tx = gx - x0;
  const ty = gy - y0;
  const v = (xx: number, yy: number) => values[yy * n + xx];
  return (1 - ty) * ((1 - tx) * v(x0, y0) + tx * v(x0 + 1, y0)) + ty * ((1 - tx) * v(x0, y0 + 1) + tx * v(x0 + 1, y0 + 1));
}
