/**
 * Non-blind deconvolution of planes with one kernel: half-quadratic splitting with a hyper-Laplacian gradient
 * prior (Krishnan & Fergus 2009), solved in Fourier space. Each plane is extended to an FFT size with a smooth
 * wrap so the periodic transform sees no jump at its borders; callers give planes with a margin of real
 * neighbours and keep the centre. Saturation-aware: where the blurry plane is clipped, the data term only asks the
 * reblurred estimate to be at least as bright (the clipped value is a lower bound, Whyte et al. 2014), so bright
 * lights do not ring.
 */
import { fftSize, HeapArena, type FftCache, type RealFft2d } from './fft2d.ts';
import { HyperLaplacianShrink } from './hyper-laplacian.ts';
import type { Kernel } from './kernel.ts';
import { boxBlur3, clippedMask } from './plane.ts';

export interface DeconvParams {
  /** Weight of the data term (λ/2·‖k⊛x − y‖²); larger trusts the data more (less noise means larger λ). */
  lambda: number;
  /** Values at or above this are clipped (saturated); ≥ 1 turns the saturation handling off. */
  clipLevel: number;
  /** The largest β of the continuation (1 → betaMax by 2√2). */
  betaMax?: number;
  /**
   * How many of the last planes get a quadratic gradient prior instead (one Fourier solve, no iterations): colour
   * difference planes, where the eye forgives a little softness and the time is better spent on luminance.
   */
  quadraticPlanes?: number;
}

/** Gradient weight of the quadratic prior, relative to the data weight λ = 1 scale of the hyper-Laplacian loop. */
const QUADRATIC_BETA = 64;

const shrinkers = new Map<number, HyperLaplacianShrink>();
function shrinker(alpha: number): HyperLaplacianShrink {
  let s = shrinkers.get(alpha);
  if (!s) shrinkers.set(alpha, (s = new HyperLaplacianShrink(alpha)));
  return s;
}

/**
 * Around clipped lights the data no longer says how bright the scene was, and what the lower bound leaves open
 * still rings a little: within the kernel's reach of a clipped pixel the blurry plane is kept, faded in smoothly.
 */
export function keepAroundLights(res: Float32Array, observed: Float32Array, w: number, h: number, k: Kernel, clipLevel: number): void {
  const reach = Math.ceil(1.5 * k.size);
  const mask = clippedMask({ width: w, height: h, data: observed }, clipLevel, reach);
  const soft = boxBlur3({ width: w, height: h, data: Float32Array.from(mask) }, Math.max(1, reach / 3)).data;
  for (let i = 0; i < res.length; i++) {
    const m = Math.min(1, 2 * soft[i]);
    res[i] += m * (observed[i] - res[i]);
  }
}

/** Plane (w×h) → padded W×H with a smooth periodic continuation across the added rows and columns. */
export function padPeriodic(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H);
  const gx = W - w;
  for (let y = 0; y < h; y++) {
    const row = y * W;
    out.set(src.subarray(y * w, y * w + w), row);
    const a = src[y * w + w - 1];
    const b = src[y * w];
    for (let i = 0; i < gx; i++) {
      const t = (i + 1) / (gx + 1);
      const s = t * t * (3 - 2 * t);
      out[row + w + i] = a + s * (b - a);
    }
  }
  const gy = H - h;
  for (let i = 0; i < gy; i++) {
    const t = (i + 1) / (gy + 1);
    const s = t * t * (3 - 2 * t);
    const row = (h + i) * W;
    for (let x = 0; x < W; x++) {
      const a = out[(h - 1) * W + x];
      const b = out[x];
      out[row + x] = a + s * (b - a);
    }
  }
  return out;
}

/** The w×h plane back out of its padded W×H extension (padPeriodic's inverse), a new array. */
export function unpad(padded: Float32Array, W: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h);
  for (let r = 0; r < h; r++) out.set(padded.subarray(r * W, r * W + w), r * w);
  return out;
}

/** The kernel's transfer function at the plan's size (kernel centre at the origin). */
export function kernelSpectrum(fft: RealFft2d, k: Kernel): Float32Array {
  const { width: W, height: H } = fft;
  const img = new Float32Array(W * H);
  const c = (k.size - 1) / 2;
  for (let y = 0; y < k.size; y++) {
    for (let x = 0; x < k.size; x++) {
      const yy = (y - c + H) % H;
      const xx = (x - c + W) % W;
      img[yy * W + xx] += k.data[y * k.size + x];
    }
  }
  const spec = new Float32Array(fft.spectrumLength);
  fft.forward(img, spec);
  return spec;
}

/** The kernel's spectrum K (complex, interleaved) and its power |K|² per bin. */
export function kernelSpectra(fft: RealFft2d, k: Kernel): { K: Float32Array; KK: Float32Array } {
  const K = kernelSpectrum(fft, k);
  const KK = new Float32Array(K.length / 2);
  for (let i = 0; i < KK.length; i++) KK[i] = K[2 * i] * K[2 * i] + K[2 * i + 1] * K[2 * i + 1];
  return { K, KK };
}

/** out ← conj(K)·S·scale(bin), bin by bin (out may be S): the data term's Kᵀy in Fourier space. */
export function conjugateProduct(K: Float32Array, S: Float32Array, out: Float32Array, scale: (bin: number) => number): void {
  for (let i = 0, n = K.length / 2; i < n; i++) {
    const kr = K[2 * i];
    const ki = K[2 * i + 1];
    const sr = S[2 * i];
    const si = S[2 * i + 1];
    const f = scale(i);
    out[2 * i] = (kr * sr + ki * si) * f;
    out[2 * i + 1] = (kr * si - ki * sr) * f;
  }
}

/** Where the padded observation is clipped (1), or null when nothing is. */
export function clippedPixels(observed: Float32Array, clipLevel: number): Uint8Array | null {
  if (clipLevel >= 1) return null;
  const clipped = new Uint8Array(observed.length);
  let any = false;
  for (let i = 0; i < observed.length; i++) {
    if (observed[i] >= clipLevel) {
      clipped[i] = 1;
      any = true;
    }
  }
  return any ? clipped : null;
}

/**
 * The saturation-aware data: where the observation is clipped, the reblurred estimate k⊛x (x given by its spectrum
 * X, which is overwritten) may exceed it, so yData takes max(observed, k⊛x) there. `scratch` is a W×H buffer.
 */
export function raiseClippedData(fft: RealFft2d, K: Float32Array, X: Float32Array, scratch: Float32Array, observed: Float32Array, clipped: Uint8Array, yData: Float32Array): void {
  for (let i = 0, n = K.length / 2; i < n; i++) {
    const sr = X[2 * i];
    const si = X[2 * i + 1];
    const kr = K[2 * i];
    const ki = K[2 * i + 1];
    X[2 * i] = sr * kr - si * ki;
    X[2 * i + 1] = sr * ki + si * kr;
  }
  fft.inverse(X, scratch);
  for (let i = 0; i < yData.length; i++) if (clipped[i]) yData[i] = Math.max(observed[i], scratch[i]);
}

/** Padding a plane needs around the kernel so that the wrap does not meet the data. */
export function deconvSize(w: number, h: number, k: Kernel): { W: number; H: number } {
  const gap = Math.max(16, k.size);
  return { W: fftSize(w + gap, 32), H: fftSize(h + gap, 16) };
}

/**
 * Deconvolves each plane (w×h, values nominally 0…1) with kernel k; returns new planes of the same size.
 * `signal` is checked between iterations.
 */
export function deconvolvePlanes(ffts: FftCache, planes: Float32Array[], w: number, h: number, k: Kernel, p: DeconvParams, signal?: AbortSignal): Float32Array[] {
  const { W, H } = deconvSize(w, h, k);
  return ffts.withPlan(W, H, (fft) => deconvolveWithPlan(ffts, fft, planes, w, h, k, p, signal));
}

function deconvolveWithPlan(ffts: FftCache, fft: RealFft2d, planes: Float32Array[], w: number, h: number, k: Kernel, p: DeconvParams, signal?: AbortSignal): Float32Array[] {
  const { width: W, height: H } = fft;
  const K = kernelSpectrum(fft, k);
  const n = K.length / 2;
  const shrink = shrinker(0.8);
  const betaMax = p.betaMax ?? 256;
  const lambda = p.lambda;
  const kernels = ffts.mod.kernels;
  const out: Float32Array[] = [];
  const firstQuadratic = planes.length - (p.quadraticPlanes ?? 0);
  // The loops run in the shared WebAssembly memory, where the transforms and kernels read and write in place.
  const dd = fft.gradientPowerAt();
  const S = fft.spectrumLength;
  // x, gx, the data term, the clipped observation and mask; gy (also a spectrum), the numerator, K, the table
  const heap = ffts.arena(HeapArena.floatsFor([W * H, W * H, W * H, W * H, (W * H) / 4, S, S, S, shrink.tableLength]));
  const kAt = heap.copyOf(K);
  const x = heap.alloc(W * H);
  // the differences' scratch, which between two w-steps holds the clipped data's reblurred solution and its spectrum
  const gx = heap.alloc(W * H);
  const gy = heap.alloc(S);
  const numer = heap.alloc(S);
  const yData = heap.alloc(W * H);
  const table = heap.alloc(shrink.tableLength);
  const clippedObserved = heap.alloc(W * H);
  const mask = heap.alloc((W * H) / 4); // a byte a pixel
  const centre = () => unpad(heap.view(x, W * H), W, w, h);
  for (const [index, plane] of planes.entries()) {
    const observed = padPeriodic(plane, w, h, W, H);
    heap.view(x, W * H).set(observed); // the hyper-Laplacian loop's warm start: the blurry plane
    if (index >= firstQuadratic) {
      fft.forwardAt(x);
      kernels.quadraticSolve(kAt, fft.spectrumPtr, fft.spectrumPtr, dd.columns, dd.rows, W, H, lambda, QUADRATIC_BETA);
      fft.inverseAt(x);
      out.push(centre());
      continue;
    }
    // the data term: the observation, raised where it is clipped and the solution is brighter
    heap.view(yData, W * H).set(observed);
    const clipped = clippedPixels(observed, p.clipLevel);
    if (clipped) {
      heap.view(clippedObserved, W * H).set(observed);
      heap.bytes(mask, W * H).set(clipped);
    }
    const saturation = clipped && { observed: clippedObserved, mask, solution: gy, reblurred: gx };
    const setNumerator = () => {
      fft.forwardAt(yData);
      kernels.conjugateProduct(kAt, fft.spectrumPtr, numer, n, lambda);
    };
    setNumerator();
    for (let beta = 1; beta <= betaMax; beta *= 2 * Math.SQRT2) {
      signal?.throwIfAborted();
      // w-step: shrink the forward differences
      const step = shrink.step(beta);
      heap.view(table, shrink.tableLength).set(step.table);
      kernels.hyperLaplacianShrinkDifferences(x, gx, gy, W, H, table, step.scale, step.max, step.zeroBelow, shrink.alpha, beta);
      // x-step
      fft.forwardAt(x);
      kernels.halfQuadraticSolve(fft.spectrumPtr, numer, kAt, dd.columns, dd.rows, W, H, lambda, beta);
      // the solution's spectrum, reblurred, raises the clipped data (the inverse transform consumes it)
      if (saturation) heap.copy(fft.spectrumPtr, saturation.solution, S);
      fft.inverseAt(x);
      if (saturation) {
        kernels.multiplySpectra(kAt, saturation.solution, fft.spectrumPtr, n);
        fft.inverseAt(saturation.reblurred);
        kernels.raiseClipped(yData, saturation.observed, saturation.reblurred, saturation.mask, W * H);
        setNumerator();
      }
    }
    const res = centre();
    if (clipped) keepAroundLights(res, plane, w, h, k, p.clipLevel);
    out.push(res);
  }
  return out;
}
