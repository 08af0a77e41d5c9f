/**
 * 2-D real FFTs on PFFFT (WebAssembly SIMD), the fastest of the candidates `npm run bench` compares.
 *
 * Spectrum layout (what every pointwise operation of the MAP core indexes): W/2+1 columns of H complex values,
 * column-major and interleaved, so bin (kx, ky) sits at 2·(kx·H + ky). Sizes must suit PFFFT: the width a
 * multiple of 32 and the height of 16, with no prime factor above 5 (`fftSize` picks one).
 */
import loadPffft, { type PffftModule } from '@echogarden/pffft-wasm/simd';

const REAL = 0;
const COMPLEX = 1;
const FORWARD = 0;
const BACKWARD = 1;
/** Rows a block of the spectrum's transpose. */
const TRANSPOSE_BLOCK = 8;

let modulePromise: Promise<PffftModule> | null = null;

/** One PFFFT instance per thread (workers load their own). */
export function pffft(): Promise<PffftModule> {
  modulePromise ??= loadPffft();
  return modulePromise;
}

function smooth235(n: number): boolean {
  for (const p of [2, 3, 5]) while (n % p === 0) n /= p;
  return n === 1;
}

/** The smallest size ≥ n that PFFFT transforms: a multiple of `multiple` with no prime factor above 5. */
export function fftSize(n: number, multiple: 16 | 32): number {
  let m = Math.max(multiple, Math.ceil(n / multiple) * multiple);
  while (!smooth235(m / multiple)) m += multiple;
  return m;
}

export class RealFft2d {
  readonly width: number;
  readonly height: number;
  /** Floats in a spectrum: (W/2+1)·H complex values. */
  readonly spectrumLength: number;
  private readonly cols: number;
  private readonly rowSetup: number;
  private readonly colSetup: number;
  private readonly rowPtr: number;
  private readonly colPtr: number;
  private readonly workPtr: number;
  private disposed = false;

  constructor(private readonly mod: PffftModule, width: number, height: number) {
    if (width % 32 !== 0 || height % 16 !== 0 || !smooth235(width / 32) || !smooth235(height / 16)) {
      throw new Error(`FFT size ${width}×${height} is not one PFFFT transforms (use fftSize)`);
    }
    this.width = width;
    this.height = height;
    this.cols = width / 2 + 1;
    this.spectrumLength = this.cols * height * 2;
    this.rowSetup = mod._pffft_new_setup(width, REAL);
    this.colSetup = mod._pffft_new_setup(height, COMPLEX);
    // PFFFT's SIMD paths need 16-byte aligned buffers.
    this.rowPtr = mod._pffft_aligned_malloc(width * height * 4);
    this.colPtr = mod._pffft_aligned_malloc(this.spectrumLength * 4);
    this.workPtr = mod._pffft_aligned_malloc(Math.max(width, 2 * height) * 4);
  }

  /** src: H×W row-major real values → spec (spectrumLength floats). */
  forward(src: Float32Array, spec: Float32Array): void {
    const { mod, width: W, height: H, cols } = this;
    mod.HEAPF32.set(src.subarray(0, W * H), this.rowPtr >> 2);
    for (let y = 0; y < H; y++) {
      const p = this.rowPtr + y * W * 4;
      mod._pffft_transform_ordered(this.rowSetup, p, p, this.workPtr, FORWARD);
    }
    // Views are taken after the calls: the heap may have grown (a new buffer) since the module loaded.
    const heap = mod.HEAPF32;
    const rows = this.rowPtr >> 2;
    const out = this.colPtr >> 2;
    // Ordered real output per row: [X0, X(W/2), Re X1, Im X1, …]; DC and Nyquist become real-valued columns.
    for (let y = 0; y < H; y++) {
      const r = rows + y * W;
      heap[out + 2 * y] = heap[r];
      heap[out + 2 * y + 1] = 0;
      const last = out + 2 * ((cols - 1) * H + y);
      heap[last] = heap[r + 1];
      heap[last + 1] = 0;
    }
    // The transpose in blocks of rows, so the rows being read stay in cache while the columns are written in order.
    for (let y0 = 0; y0 < H; y0 += TRANSPOSE_BLOCK) {
      const y1 = Math.min(H, y0 + TRANSPOSE_BLOCK);
      for (let k = 1; k < cols - 1; k++) {
        for (let y = y0, r = rows + y0 * W + 2 * k, d = out + 2 * (k * H + y0); y < y1; y++, r += W, d += 2) {
          heap[d] = heap[r];
          heap[d + 1] = heap[r + 1];
        }
      }
    }
    for (let k = 0; k < cols; k++) {
      const p = this.colPtr + k * H * 8;
      mod._pffft_transform_ordered(this.colSetup, p, p, this.workPtr, FORWARD);
    }
    spec.set(mod.HEAPF32.subarray(out, out + this.spectrumLength));
  }

  /** spec → dst (H×W real), scaled so that inverse(forward(x)) = x. */
  inverse(spec: Float32Array, dst: Float32Array): void {
    const { mod, width: W, height: H, cols } = this;
    const out = this.colPtr >> 2;
    mod.HEAPF32.set(spec.subarray(0, this.spectrumLength), out);
    for (let k = 0; k < cols; k++) {
      const p = this.colPtr + k * H * 8;
      mod._pffft_transform_ordered(this.colSetup, p, p, this.workPtr, BACKWARD);
    }
    let heap = mod.HEAPF32;
    const rows = this.rowPtr >> 2;
    for (let y = 0; y < H; y++) {
      const r = rows + y * W;
      heap[r] = heap[out + 2 * y];
      heap[r + 1] = heap[out + 2 * ((cols - 1) * H + y)];
    }
    for (let y0 = 0; y0 < H; y0 += TRANSPOSE_BLOCK) {
      const y1 = Math.min(H, y0 + TRANSPOSE_BLOCK);
      for (let k = 1; k < cols - 1; k++) {
        for (let y = y0, r = rows + y0 * W + 2 * k, s = out + 2 * (k * H + y0); y < y1; y++, r += W, s += 2) {
          heap[r] = heap[s];
          heap[r + 1] = heap[s + 1];
        }
      }
    }
    for (let y = 0; y < H; y++) {
      const p = this.rowPtr + y * W * 4;
      mod._pffft_transform_ordered(this.rowSetup, p, p, this.workPtr, BACKWARD);
    }
    heap = mod.HEAPF32;
    const scale = 1 / (W * H);
    for (let i = 0, n = W * H; i < n; i++) dst[i] = heap[rows + i] * scale;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.mod._pffft_destroy_setup(this.rowSetup);
    this.mod._pffft_destroy_setup(this.colSetup);
    this.mod._pffft_aligned_free(this.rowPtr);
    this.mod._pffft_aligned_free(this.colPtr);
    this.mod._pffft_aligned_free(this.workPtr);
  }
}

/** Plans by size, reused across tiles and iterations of one thread (setups and buffers are costly to make). */
export class FftCache {
  private readonly plans = new Map<string, RealFft2d>();
  constructor(private readonly mod: PffftModule) {}

  get(width: number, height: number): RealFft2d {
    const key = `${width}x${height}`;
    let plan = this.plans.get(key);
    if (!plan) {
      if (this.plans.size >= 16) this.clear();
      plan = new RealFft2d(this.mod, width, height);
      this.plans.set(key, plan);
    }
    return plan;
  }

  clear(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
  }
}
