/**
 * Blur kernels: square, odd-sized, non-negative, summing to one, centred on their centre of mass, in the
 * convolution convention (blurry = sharp ⊛ kernel, so a kernel's pixel (dx, dy) from the centre moves light from
 * sharp (x, y) to blurry (x + dx, y + dy)).
 */
import { canonicalSign } from '../synth/motion-vector.ts';

export interface Kernel {
  size: number;
  data: Float32Array;
}

export function deltaKernel(size = 1): Kernel {
  const data = new Float32Array(size * size);
  data[(size * size - 1) / 2] = 1;
  return { size, data };
}

export function oddSize(n: number): number {
  const r = Math.max(1, Math.round(n));
  return r % 2 === 1 ? r : r + 1;
}

/** Non-negative, small values (< `floor` of the maximum) removed, normalised; a delta when nothing is left. */
export function cleanKernel(k: Kernel, floor = 0.05): Kernel {
  const d = new Float32Array(k.data.length);
  let max = 0;
  for (const v of k.data) max = Math.max(max, v);
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    const v = k.data[i];
    d[i] = v > floor * max ? v : 0;
    sum += d[i];
  }
  if (!(sum > 0)) return deltaKernel(k.size);
  for (let i = 0; i < d.length; i++) d[i] /= sum;
  return { size: k.size, data: d };
}

/** Keeps the connected pieces (8-neighbour) that hold at least `share` of the mass; isolated specks are noise. */
export function dropSmallPieces(k: Kernel, share = 0.1): Kernel {
  const n = k.size;
  const label = new Int32Array(n * n).fill(-1);
  const mass: number[] = [];
  for (let start = 0; start < n * n; start++) {
    if (k.data[start] <= 0 || label[start] >= 0) continue;
    const id = mass.length;
    let m = 0;
    const stack = [start];
    label[start] = id;
    while (stack.length) {
      const i = stack.pop()!;
      m += k.data[i];
      const x = i % n;
      const y = (i - x) / n;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= n || yy >= n) continue;
          const j = yy * n + xx;
          if (k.data[j] > 0 && label[j] < 0) {
            label[j] = id;
            stack.push(j);
          }
        }
      }
    }
    mass.push(m);
  }
  const total = mass.reduce((a, b) => a + b, 0);
  const d = new Float32Array(n * n);
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    if (label[i] >= 0 && mass[label[i]] >= share * total) {
      d[i] = k.data[i];
      sum += d[i];
    }
  }
  if (!(sum > 0)) return deltaKernel(n);
  for (let i = 0; i < d.length; i++) d[i] /= sum;
  return { size: n, data: d };
}

/** Centre of mass in window pixels (the kernel sums to one). */
export function centroid(k: Kernel): [number, number] {
  const n = k.size;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    cx += x * k.data[y * n + x];
    cy += y * k.data[y * n + x];
  }
  return [cx, cy];
}

/** Shifted by whole pixels so that its centre of mass sits on the centre pixel (else the output would shift). */
export function centreKernel(k: Kernel): Kernel {
  const n = k.size;
  const [cx, cy] = centroid(k);
  const c = (n - 1) / 2;
  const sx = Math.round(c - cx);
  const sy = Math.round(c - cy);
  if (sx === 0 && sy === 0) return k;
  const d = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const xx = x + sx;
    const yy = y + sy;
    if (xx >= 0 && yy >= 0 && xx < n && yy < n) d[yy * n + xx] = k.data[y * n + x];
  }
  return normalise({ size: n, data: d });
}

export function normalise(k: Kernel): Kernel {
  let sum = 0;
  for (const v of k.data) sum += v;
  if (!(sum > 0)) return deltaKernel(k.size);
  const d = k.data.map((v) => v / sum);
  return { size: k.size, data: d };
}

/** Bilinear resize to a new odd size with the centre kept, renormalised (coarse-to-fine and region blending). */
export function resizeKernel(k: Kernel, size: number, scale: number): Kernel {
  const d = new Float32Array(size * size);
  const c0 = (k.size - 1) / 2;
  const c1 = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = (x - c1) / scale + c0;
      const sy = (y - c1) / scale + c0;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      let v = 0;
      for (const [xx, yy, w] of [[x0, y0, (1 - fx) * (1 - fy)], [x0 + 1, y0, fx * (1 - fy)], [x0, y0 + 1, (1 - fx) * fy], [x0 + 1, y0 + 1, fx * fy]] as const) {
        if (xx >= 0 && yy >= 0 && xx < k.size && yy < k.size) v += w * k.data[yy * k.size + xx];
      }
      d[y * size + x] = v;
    }
  }
  return normalise({ size, data: d });
}

/**
 * The kernel as a photo `factor` times smaller sees it: every value splatted bilinearly to its scaled place, so thin
 * shake paths keep their mass (sampling them, as resizeKernel does, can step over them); centre kept, trimmed.
 */
export function shrinkKernel(k: Kernel, factor: number): Kernel {
  if (factor <= 1) return k;
  // room for the splat's far neighbours on both sides
  const side = Math.ceil(k.size / factor) + 3;
  const size = side % 2 ? side : side + 1;
  const d = new Float32Array(size * size);
  const c0 = (k.size - 1) / 2;
  const c1 = (size - 1) / 2;
  for (let y = 0; y < k.size; y++) {
    for (let x = 0; x < k.size; x++) {
      const v = k.data[y * k.size + x];
      if (v === 0) continue;
      const tx = (x - c0) / factor + c1;
      const ty = (y - c0) / factor + c1;
      const x0 = Math.floor(tx);
      const y0 = Math.floor(ty);
      const fx = tx - x0;
      const fy = ty - y0;
      d[y0 * size + x0] += v * (1 - fx) * (1 - fy);
      d[y0 * size + x0 + 1] += v * fx * (1 - fy);
      d[(y0 + 1) * size + x0] += v * (1 - fx) * fy;
      d[(y0 + 1) * size + x0 + 1] += v * fx * fy;
    }
  }
  return trimKernel(normalise({ size, data: d }));
}

/** A kernel placed in a larger odd window (centre kept), or cropped to a smaller one. */
export function padKernel(k: Kernel, size: number): Kernel {
  const d = new Float32Array(size * size);
  const off = (size - k.size) / 2;
  for (let y = 0; y < k.size; y++) for (let x = 0; x < k.size; x++) {
    const xx = x + off;
    const yy = y + off;
    if (xx >= 0 && yy >= 0 && xx < size && yy < size) d[yy * size + xx] = k.data[y * k.size + x];
  }
  return normalise({ size, data: d });
}

/** Half the side of the smallest centred square holding all of the kernel's mass (0 for a delta). */
export function kernelRadius(k: Kernel): number {
  const c = (k.size - 1) / 2;
  let r = 0;
  for (let y = 0; y < k.size; y++) for (let x = 0; x < k.size; x++) {
    if (k.data[y * k.size + x] > 0) r = Math.max(r, Math.abs(x - c), Math.abs(y - c));
  }
  return r;
}

/** The kernel cropped to the smallest odd window that holds it. */
export function trimKernel(k: Kernel): Kernel {
  return padKernel(k, 2 * kernelRadius(k) + 1);
}

/** Normalised correlation of two kernels, centred on their centres of mass, at the best shift within ±`maxShift` px. */
export function kernelSimilarity(a: Kernel, b: Kernel, maxShift = 2): number {
  const n = Math.max(a.size, b.size) + 2 * maxShift;
  const pa = centreKernel(padKernel(a, n % 2 ? n : n + 1));
  const pb = centreKernel(padKernel(b, pa.size));
  const m = pa.size;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < m * m; i++) {
    na += pa.data[i] * pa.data[i];
    nb += pb.data[i] * pb.data[i];
  }
  let best = 0;
  for (let sy = -maxShift; sy <= maxShift; sy++) for (let sx = -maxShift; sx <= maxShift; sx++) {
    let dot = 0;
    for (let y = 0; y < m; y++) {
      const yy = y + sy;
      if (yy < 0 || yy >= m) continue;
      for (let x = 0; x < m; x++) {
        const xx = x + sx;
        if (xx >= 0 && xx < m) dot += pa.data[y * m + x] * pb.data[yy * m + xx];
      }
    }
    best = Math.max(best, dot / Math.sqrt(na * nb || 1));
  }
  return best;
}

/**
 * The motion a kernel implies, in the units of the motion view: its principal axis, with the half-length of a
 * straight streak of the same spread (√(3·λmax)), canonical sign.
 */
export function kernelMotion(k: Kernel): { u: number; v: number; halfExtent: number } {
  const n = k.size;
  const [mx, my] = centroid(k);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const w = k.data[y * n + x];
    sxx += w * (x - mx) ** 2;
    syy += w * (y - my) ** 2;
    sxy += w * (x - mx) * (y - my);
  }
  const tr = sxx + syy;
  const disc = Math.sqrt(Math.max(0, ((sxx - syy) / 2) ** 2 + sxy * sxy));
  const major = tr / 2 + disc;
  const theta = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const halfExtent = Math.sqrt(3 * Math.max(0, major));
  const [u, v] = canonicalSign(halfExtent * Math.cos(theta), halfExtent * Math.sin(theta));
  return { u, v, halfExtent };
}
