/**
 * Blind kernel estimation on one plane: coarse-to-fine MAP with a sparse (L0) gradient prior on the latent image
 * (Pan et al. 2014; Xu et al. 2013), the kernel fitted to the gradients in Fourier space (Cho & Lee 2009),
 * kept non-negative, normalised, pruned of small values and isolated pieces, and re-centred.
 *
 * The kernel window is chosen from the blur itself: each finer scale gets a window that fits the kernel found so
 * far (with room to grow), never more than `maxSize`. Clipped pixels are left out of the kernel's data term.
 * Deterministic: no randomness anywhere.
 */
import { fftSize, HeapArena, type FftCache } from './fft2d.ts';
import { deconvSize, kernelSpectrum, padPeriodic, unpad } from './deconvolve.ts';
import { centreKernel, cleanKernel, dropSmallPieces, kernelRadius, oddSize, padKernel, resizeKernel, type Kernel } from './kernel.ts';
import { resizePlane, type Plane } from './plane.ts';
import { selectNth } from './select-nth.ts';

export interface KernelEstimateOptions {
  /** Largest kernel side at this plane's resolution (odd). */
  maxSize: number;
  /** Noise standard deviation of the plane, for the prior weights. */
  noise: number;
  /** 1 where the plane is clipped (grown by the blur): excluded from the kernel's data term. */
  clipped?: Uint8Array | null;
  /** Start from this kernel (a region refining the photo's kernel): only the finest scales run. */
  init?: Kernel;
  /**
   * How many of the latent's strongest gradients each direction keeps for the kernel fit: 'area' (Cho & Lee 2009:
   * 2·√(gradient pixels · kernel pixels), the default) or 'side' (Pan et al. 2016: 20 per pixel of the kernel's
   * side). The guard's second opinion estimates with the other rule.
   */
  edgeSelection?: EdgeSelection;
  signal?: AbortSignal;
}

export type EdgeSelection = 'area' | 'side';

export interface KernelEstimate {
  kernel: Kernel;
  /** The sparse latent image of the last iteration at full plane resolution. */
  latent: Float32Array;
}

const SCALE_STEP = Math.SQRT2;
const COARSEST_KERNEL = 5;
/** Alternations a scale; the two finest (the costly ones) and region refinements need fewer to settle. */
const ITERATIONS = 10;
const FINE_ITERATIONS = 5;
const CG_ITERATIONS = 25;
/** Scales a refinement from a given kernel runs (the finest ones). */
const REFINE_SCALES = 1;
/** Kernel Tikhonov weight relative to the latent's gradient energy. */
const GAMMA = 1e-3;
const TAN_22_5 = Math.tan(Math.PI / 8);

export async function estimateKernel(ffts: FftCache, blurry: Plane, opts: KernelEstimateOptions): Promise<KernelEstimate> {
  const maxSize = oddSize(opts.maxSize);
  const scales = Math.max(1, Math.ceil(Math.log(maxSize / COARSEST_KERNEL) / Math.log(SCALE_STEP)) + 1);
  // Noise weakens the sparse prior's hold on true edges; a stronger prior keeps only the edges that stand out.
  // Measured on the eval sets: a weaker sparse prior than Pan et al.'s 4e-3 keeps the texture that pins large
  // kernels down (4e-3 left kernels of 20+ px diffuse).
  const lambdaStart = Math.max(1e-3, 12 * opts.noise * opts.noise);
  const lambdaMin = Math.max(1e-4, 2 * opts.noise * opts.noise);
  let kernel: Kernel | null = null;
  let latent = blurry.data;
  const first = opts.init ? Math.max(0, scales - REFINE_SCALES) : 0;
  if (opts.init) kernel = resizeKernel(opts.init, oddSize(opts.init.size * Math.pow(SCALE_STEP, -(scales - first))), Math.pow(SCALE_STEP, -(scales - first)));
  for (let s = first; s < scales; s++) {
    const f = Math.pow(SCALE_STEP, -(scales - 1 - s));
    const w = Math.max(8, Math.round(blurry.width * f));
    const h = Math.max(8, Math.round(blurry.height * f));
    const y = s === scales - 1 ? blurry : resizePlane(blurry, w, h);
    const mask = opts.clipped ? maskAt(opts.clipped, blurry.width, blurry.height, w, h) : null;
    const windowMax = Math.max(3, oddSize(maxSize * f));
    let size: number;
    if (!kernel) {
      size = Math.min(windowMax, COARSEST_KERNEL);
      kernel = seedKernel(size);
    } else {
      const grown = kernelRadius(kernel) * SCALE_STEP;
      size = Math.min(windowMax, oddSize(2 * (grown + Math.max(3, 0.35 * grown)) + 1));
      kernel = resizeKernel(kernel, Math.max(size, oddSize(kernel.size * SCALE_STEP)), SCALE_STEP);
      kernel = padKernel(kernel, size);
    }
    let lambda = lambdaStart;
    const iterations = s >= scales - 2 ? FINE_ITERATIONS : ITERATIONS;
    for (let it = 0; it < iterations; it++) {
      // Let the event loop deliver a cancel between iterations (each takes well under a second).
      await new Promise((resolve) => setImmediate(resolve));
      opts.signal?.throwIfAborted();
      latent = l0Restore(ffts, y, kernel, lambda);
      kernel = solveKernel(ffts, { width: y.width, height: y.height, data: latent }, y, mask, size, kernel, opts.edgeSelection);
      lambda = Math.max(lambdaMin, lambda / 1.1);
    }
  }
  return { kernel: kernel!, latent };
}

/** A small isotropic blur: a delta would be a fixed point of the alternation (latent = blurry, kernel = delta). */
function seedKernel(size: number): Kernel {
  const d = new Float32Array(size * size);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) d[y * size + x] = Math.exp(-((x - c) ** 2 + (y - c) ** 2) / 1.0);
  let s = 0;
  for (const v of d) s += v;
  return { size, data: d.map((v) => v / s) };
}

function maskAt(mask: Uint8Array, w0: number, h0: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const sx = Math.min(w0 - 1, Math.floor(((x + 0.5) * w0) / w));
    const sy = Math.min(h0 - 1, Math.floor(((y + 0.5) * h0) / h));
    out[y * w + x] = mask[sy * w0 + sx];
  }
  return out;
}

/**
 * argmin_x ‖k⊛x − y‖² + λ‖∇x‖₀ by half-quadratic splitting (β from 2λ, doubling): a latent image whose
 * gradients are either zero or strong, so only salient edges drive the kernel.
 */
export function l0Restore(ffts: FftCache, y: Plane, k: Kernel, lambda: number): Float32Array {
  const { width: w, height: h } = y;
  const { W, H } = deconvSize(w, h, k);
  const fft = ffts.get(W, H);
  const K = kernelSpectrum(fft, k);
  const n = K.length / 2;
  // The loop runs in the shared WebAssembly memory, where the transforms and kernels read and write in place.
  const dd = fft.gradientPowerAt();
  const heap = ffts.arena(HeapArena.floatsFor([W * H, W * H, W * H, K.length, K.length]));
  const x = heap.copyOf(padPeriodic(y.data, w, h, W, H));
  const gx = heap.alloc(W * H);
  const gy = heap.alloc(W * H);
  const kAt = heap.copyOf(K);
  const numer = heap.alloc(K.length);
  const kernels = ffts.mod.kernels;
  // the data term Kᵀy
  fft.forwardAt(x);
  kernels.conjugateProduct(kAt, fft.spectrumPtr, numer, n, 1);
  for (let beta = 2 * lambda; beta < 1e5; beta *= 2.5) {
    // g-step: a gradient survives only if it pays its L0 cost
    kernels.l0ShrinkDifferences(x, gx, gy, W, H, lambda / beta);
    fft.forwardAt(x);
    kernels.halfQuadraticSolve(fft.spectrumPtr, numer, kAt, dd.columns, dd.rows, W, H, 1, beta);
    fft.inverseAt(x);
  }
  return unpad(heap.view(x, W * H), W, w, h);
}

/**
 * Forward differences inside the plane, zero within `margin` of its border (where the latent image is least
 * reliable) and where masked.
 */
function gradients(p: Plane, mask: Uint8Array | null, W: number, H: number, margin: number): [Float32Array, Float32Array] {
  const gx = new Float32Array(W * H);
  const gy = new Float32Array(W * H);
  const { width: w, height: h, data } = p;
  for (let y = margin; y < h - margin; y++) {
    for (let x = margin; x < w - margin; x++) {
      const i = y * w + x;
      if (mask && mask[i]) continue;
      if (x + 1 < w) gx[y * W + x] = data[i + 1] - data[i];
      if (y + 1 < h) gy[y * W + x] = data[i + w] - data[i];
    }
  }
  return [gx, gy];
}

/**
 * Keeps only the strongest latent gradients: in each of four direction bins at least as many as `rule` says
 * survive (Cho & Lee 2009: 2·√(pixels·kernel pixels); Pan et al. 2016: 20 per pixel of the kernel's side), so every
 * direction still constrains the kernel while weak edges and small structures, which mislead the fit, drop out.
 */
function selectStrongGradients(gx: Float32Array, gy: Float32Array, size: number, rule: EdgeSelection): void {
  const n = gx.length;
  // Squared magnitudes rank like magnitudes and need no square root.
  const power = new Float64Array(n);
  const binOf = new Uint8Array(n);
  const counts = [0, 0, 0, 0];
  let pixels = 0;
  for (let i = 0; i < n; i++) {
    const x = gx[i];
    const y = gy[i];
    const m = x * x + y * y;
    if (m === 0) continue;
    power[i] = m;
    pixels++;
    // the direction's bin of 45° about 0°, 45°, 90° and 135° (sign-free), by slopes instead of an angle
    const ax = Math.abs(x);
    const ay = Math.abs(y);
    const b = ay < TAN_22_5 * ax ? 0 : ay * TAN_22_5 >= ax ? 2 : x * y > 0 ? 1 : 3;
    binOf[i] = b;
    counts[b]++;
  }
  const keep = rule === 'area' ? Math.ceil(2 * Math.sqrt(pixels * size * size)) : Math.max(10, 20 * size);
  const bins = counts.map((c) => new Float64Array(c));
  const filled = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) if (power[i] > 0) bins[binOf[i]][filled[binOf[i]]++] = power[i];
  let threshold = Infinity;
  for (const b of bins) {
    if (b.length === 0) continue;
    // the keep-th largest, or the bin's smallest when it holds fewer
    threshold = Math.min(threshold, selectNth(b, b.length - Math.min(b.length, keep)));
  }
  if (!Number.isFinite(threshold)) return;
  for (let i = 0; i < n; i++) {
    if (power[i] < threshold) {
      gx[i] = 0;
      gy[i] = 0;
    }
  }
}

/**
 * argmin_k ‖∇x ⊛ k − ∇y‖² + γ‖k‖² over the kernel window, by conjugate gradients with the products done in
 * Fourier space (Pan et al.'s formulation; a closed form over the whole frame would leak energy outside the
 * window); then non-negative, pruned and normalised. γ is relative to the latent's gradient energy, so the fit
 * does not depend on contrast or size.
 */
export function solveKernel(ffts: FftCache, x: Plane, y: Plane, mask: Uint8Array | null, size: number, init: Kernel, edgeSelection: EdgeSelection = 'area'): Kernel {
  const { W, H } = deconvSize(x.width, x.height, { size, data: new Float32Array(0) });
  const fft = ffts.get(W, H);
  const n = fft.spectrumLength / 2;
  const margin = Math.min((size - 1) / 2, Math.floor(Math.min(x.width, x.height) / 4));
  const [xx, xy] = gradients(x, mask, W, H, margin);
  selectStrongGradients(xx, xy, size, edgeSelection);
  const [yx, yy] = gradients(y, mask, W, H, margin);
  const Fxx = new Float32Array(fft.spectrumLength);
  const Fxy = new Float32Array(fft.spectrumLength);
  const Fyx = new Float32Array(fft.spectrumLength);
  const Fyy = new Float32Array(fft.spectrumLength);
  fft.forward(xx, Fxx);
  fft.forward(xy, Fxy);
  fft.forward(yx, Fyx);
  fft.forward(yy, Fyy);
  let energy = 0;
  for (let i = 0; i < xx.length; i++) energy += xx[i] * xx[i] + xy[i] * xy[i];
  const gamma = GAMMA * energy;
  const power = new Float32Array(n);
  const rhsSpec = Fyx;
  for (let i = 0; i < n; i++) {
    const ar = Fxx[2 * i];
    const ai = Fxx[2 * i + 1];
    const br = Fxy[2 * i];
    const bi = Fxy[2 * i + 1];
    const cr = Fyx[2 * i];
    const ci = Fyx[2 * i + 1];
    const dr = Fyy[2 * i];
    const di = Fyy[2 * i + 1];
    power[i] = ar * ar + ai * ai + br * br + bi * bi;
    rhsSpec[2 * i] = ar * cr + ai * ci + br * dr + bi * di;
    rhsSpec[2 * i + 1] = ar * ci - ai * cr + br * di - bi * dr;
  }
  // The normal equations' operator is a correlation with the gradients' autocorrelation, of which only lags within
  // ±(size−1) reach the window: the conjugate gradients run in a frame of about twice the kernel's side instead of
  // the whole plane's.
  const c = (size - 1) / 2;
  const lag = size - 1;
  const small = ffts.get(fftSize(2 * lag + 1, 32), fftSize(2 * lag + 1, 16));
  const sw = small.width;
  const sh = small.height;
  // index of offset (dx, dy) in a periodic w×h frame, and in the kernel window
  const wrapped = (dx: number, dy: number, w: number, h: number) => ((dy + h) % h) * w + ((dx + w) % w);
  const inWindow = (dx: number, dy: number) => (dy + c) * size + dx + c;
  const frame = xx;
  const b = new Float32Array(size * size);
  fft.inverse(rhsSpec, frame);
  for (let dy = -c; dy <= c; dy++) for (let dx = -c; dx <= c; dx++) b[inWindow(dx, dy)] = frame[wrapped(dx, dy, W, H)];
  const powerSpec = Fxy;
  for (let i = 0; i < n; i++) {
    powerSpec[2 * i] = power[i];
    powerSpec[2 * i + 1] = 0;
  }
  fft.inverse(powerSpec, frame);
  const smallFrame = new Float32Array(sw * sh);
  for (let dy = -lag; dy <= lag; dy++) for (let dx = -lag; dx <= lag; dx++) smallFrame[wrapped(dx, dy, sw, sh)] = frame[wrapped(dx, dy, W, H)];
  const autocorrelation = new Float32Array(small.spectrumLength);
  small.forward(smallFrame, autocorrelation);
  const smallSpec = new Float32Array(small.spectrumLength);
  const sn = small.spectrumLength / 2;
  const apply = (k: Float32Array, out: Float32Array) => {
    smallFrame.fill(0);
    for (let dy = -c; dy <= c; dy++) for (let dx = -c; dx <= c; dx++) smallFrame[wrapped(dx, dy, sw, sh)] = k[inWindow(dx, dy)];
    small.forward(smallFrame, smallSpec);
    for (let i = 0; i < sn; i++) {
      // the autocorrelation is real and even, so its spectrum is real
      const a = autocorrelation[2 * i];
      smallSpec[2 * i] *= a;
      smallSpec[2 * i + 1] *= a;
    }
    small.inverse(smallSpec, smallFrame);
    for (let dy = -c; dy <= c; dy++) for (let dx = -c; dx <= c; dx++) out[inWindow(dx, dy)] = smallFrame[wrapped(dx, dy, sw, sh)] + gamma * k[inWindow(dx, dy)];
  };
  const m = size * size;
  const k = padKernel(init, size).data.slice();
  const r = new Float32Array(m);
  const p = new Float32Array(m);
  const Ap = new Float32Array(m);
  apply(k, Ap);
  let rr = 0;
  for (let i = 0; i < m; i++) {
    r[i] = b[i] - Ap[i];
    p[i] = r[i];
    rr += r[i] * r[i];
  }
  const rr0 = rr;
  for (let it = 0; it < CG_ITERATIONS && rr > 1e-12 * rr0; it++) {
    apply(p, Ap);
    let pAp = 0;
    for (let i = 0; i < m; i++) pAp += p[i] * Ap[i];
    if (!(pAp > 0)) break;
    const a = rr / pAp;
    let next = 0;
    for (let i = 0; i < m; i++) {
      k[i] += a * p[i];
      r[i] -= a * Ap[i];
      next += r[i] * r[i];
    }
    const beta = next / rr;
    rr = next;
    for (let i = 0; i < m; i++) p[i] = r[i] + beta * p[i];
  }
  for (let i = 0; i < m; i++) if (!(k[i] > 0)) k[i] = 0;
  return centreKernel(dropSmallPieces(cleanKernel({ size, data: k })));
}
