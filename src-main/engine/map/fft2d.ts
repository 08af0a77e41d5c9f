/**
 * 2-D real FFTs on PFFFT (WebAssembly SIMD), the fastest of the candidates `npm run bench` compares, and the
 * shared WebAssembly memory where the MAP core's loops (map-kernels.ts) and the transforms work on the same buffers.
 *
 * Spectrum layout (what every pointwise operation of the MAP core indexes): W/2+1 columns of H complex values,
 * column-major and interleaved, so bin (kx, ky) sits at 2·(kx·H + ky). Sizes must suit PFFFT: the width a
 * multiple of 32 and the height of 16, with no prime factor above 5 (`fftSize` picks one).
 */
import fs from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import loadPffft, { type PffftModule } from '@echogarden/pffft-wasm/simd';
import { loadMapKernels, type MapKernels } from './map-kernels.ts';
import { gradientPowerParts } from './periodic-gradients.ts';

const REAL = 0;
const COMPLEX = 1;
const FORWARD = 0;
const BACKWARD = 1;

/** PFFFT and the MAP core's own loops (map-kernels.ts), sharing one WebAssembly memory. */
export type MapWasm = PffftModule & { kernels: MapKernels };

let modulePromise: Promise<MapWasm> | null = null;
let compiled: Promise<WebAssembly.Module> | null = null;

/** This thread's shared instance (for its short-lived work: estimates, tests). */
export function pffft(): Promise<MapWasm> {
  modulePromise ??= loadMapWasm();
  return modulePromise;
}

/**
 * A new instance with a memory of its own: WebAssembly memory only grows, so whoever fills it with a photo's tiles
 * (the MAP core's threads) takes a fresh one afterwards and lets the grown one go.
 *
 * PFFFT is instantiated here rather than by its loader, so that its memory (which the module defines and exports)
 * can be handed to the MAP core's kernels: they then work on the buffers the transforms read and write.
 */
export async function loadMapWasm(): Promise<MapWasm> {
  compiled ??= fs.readFile(fileURLToPath(new URL('pffft.wasm', import.meta.resolve('@echogarden/pffft-wasm/simd')))).then((b) => WebAssembly.compile(b));
  const module = await compiled;
  let memory: WebAssembly.Memory | undefined;
  // the loader waits for `receive` alone: a failed instantiation is raced in, or the load would never settle
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const mod = await Promise.race([
    loadPffft({
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        WebAssembly.instantiate(module, imports).then((instance) => {
          memory = Object.values(instance.exports).find((v): v is WebAssembly.Memory => v instanceof WebAssembly.Memory);
          receive(instance, module);
        }, fail);
        return {};
      },
    }),
    failed,
  ]);
  if (!memory) throw new Error('PFFFT exports no memory for the MAP core kernels to share');
  return Object.assign(mod, { kernels: await loadMapKernels(memory) });
}

/** A float32 view of n values at a byte address of the shared memory, taken anew (the memory may have grown). */
export function heapView(mod: MapWasm, ptr: number, n: number): Float32Array {
  return new Float32Array(mod.HEAPF32.buffer, ptr, n);
}

/**
 * Float32 buffers in the shared memory for the kernels and transforms to work on in place, carved one after another
 * out of a block that outlives them (FftCache.arena). Views are taken anew each time: the memory may have grown.
 */
export class HeapArena {
  private used = 0;
  constructor(private readonly mod: MapWasm, private readonly base: number, private readonly capacity: number) {}

  /** Floats an arena needs for buffers of these sizes (each starts 16-byte aligned, as SIMD loads want). */
  static floatsFor(sizes: number[]): number {
    return sizes.reduce((sum, n) => sum + aligned(n), 0);
  }

  /** n floats. */
  alloc(n: number): number {
    const at = this.used;
    if (at + aligned(n) > this.capacity) throw new Error(`the MAP core's arena of ${this.capacity} floats is too small`);
    this.used += aligned(n);
    return this.base + at * 4;
  }

  /** n floats holding a copy of `values`. */
  copyOf(values: Float32Array): number {
    const ptr = this.alloc(values.length);
    heapView(this.mod, ptr, values.length).set(values);
    return ptr;
  }

  /** Copies n floats from one buffer to another. */
  copy(from: number, to: number, n: number): void {
    this.mod.HEAPF32.copyWithin(to >> 2, from >> 2, (from >> 2) + n);
  }

  view(ptr: number, n: number): Float32Array {
    return heapView(this.mod, ptr, n);
  }

  /** n bytes at ptr (a mask of a byte a pixel, in a buffer of n/4 floats). */
  bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.mod.HEAPF32.buffer, ptr, n);
  }
}

function aligned(floats: number): number {
  return Math.ceil(floats / 4) * 4;
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
  /** Where the spectrum lies in the shared memory after `forwardAt` (and where `inverseAt` takes it from). */
  readonly spectrumPtr: number;
  private readonly rowSetup: number;
  private readonly colSetup: number;
  private readonly rowPtr: number;
  private readonly workPtr: number;
  private gradientPowerPtr = 0;
  private disposed = false;

  constructor(private readonly mod: MapWasm, width: number, height: number) {
    if (width % 32 !== 0 || height % 16 !== 0 || !smooth235(width / 32) || !smooth235(height / 16)) {
      throw new Error(`FFT size ${width}×${height} is not one PFFFT transforms (use fftSize)`);
    }
    this.width = width;
    this.height = height;
    this.spectrumLength = (width / 2 + 1) * height * 2;
    this.rowSetup = mod._pffft_new_setup(width, REAL);
    this.colSetup = mod._pffft_new_setup(height, COMPLEX);
    // PFFFT's SIMD paths need 16-byte aligned buffers.
    this.rowPtr = mod._pffft_aligned_malloc(width * height * 4);
    this.spectrumPtr = mod._pffft_aligned_malloc(this.spectrumLength * 4);
    this.workPtr = mod._pffft_aligned_malloc(Math.max(width, 2 * height) * 4);
  }

  /** src: H×W row-major real values → spec (spectrumLength floats). */
  forward(src: Float32Array, spec: Float32Array): void {
    heapView(this.mod, this.rowPtr, this.width * this.height).set(src.subarray(0, this.width * this.height));
    this.forwardAt(this.rowPtr);
    spec.set(heapView(this.mod, this.spectrumPtr, this.spectrumLength));
  }

  /** spec → dst (H×W real), scaled so that inverse(forward(x)) = x. */
  inverse(spec: Float32Array, dst: Float32Array): void {
    heapView(this.mod, this.spectrumPtr, this.spectrumLength).set(spec.subarray(0, this.spectrumLength));
    this.inverseAt(this.rowPtr);
    dst.set(heapView(this.mod, this.rowPtr, this.width * this.height));
  }

  /** The plane at byte address src (H×W, left as it is unless it is this plan's own row buffer) → spectrumPtr. */
  forwardAt(src: number): void {
    const { mod, width: W, height: H } = this;
    for (let y = 0; y < H; y++) mod._pffft_transform_ordered(this.rowSetup, src + y * W * 4, this.rowPtr + y * W * 4, this.workPtr, FORWARD);
    mod.kernels.rowsToColumns(this.rowPtr, this.spectrumPtr, W, H);
    for (let k = 0, n = W / 2 + 1; k < n; k++) {
      const p = this.spectrumPtr + k * H * 8;
      mod._pffft_transform_ordered(this.colSetup, p, p, this.workPtr, FORWARD);
    }
  }

  /** The spectrum at spectrumPtr (overwritten) → the plane at byte address dst, scaled so that it inverts forwardAt. */
  inverseAt(dst: number): void {
    const { mod, width: W, height: H } = this;
    for (let k = 0, n = W / 2 + 1; k < n; k++) {
      const p = this.spectrumPtr + k * H * 8;
      mod._pffft_transform_ordered(this.colSetup, p, p, this.workPtr, BACKWARD);
    }
    mod.kernels.columnsToRows(this.spectrumPtr, this.rowPtr, W, H);
    for (let y = 0; y < H; y++) mod._pffft_transform_ordered(this.rowSetup, this.rowPtr + y * W * 4, dst + y * W * 4, this.workPtr, BACKWARD);
    mod.kernels.scale(dst, dst, W * H, 1 / (W * H));
  }

  /**
   * |Dx|² + |Dy|² of the forward differences per bin by its column and row parts (periodic-gradients.ts), in the
   * shared memory: made on first use and kept with the plan. The call may allocate, so views are taken after it.
   */
  gradientPowerAt(): { columns: number; rows: number } {
    if (!this.gradientPowerPtr) {
      const { columns, rows } = gradientPowerParts(this.width, this.height);
      this.gradientPowerPtr = this.mod._pffft_aligned_malloc((columns.length + rows.length) * 8);
      new Float64Array(this.mod.HEAPF32.buffer, this.gradientPowerPtr, columns.length).set(columns);
      new Float64Array(this.mod.HEAPF32.buffer, this.gradientPowerPtr + columns.length * 8, rows.length).set(rows);
    }
    return { columns: this.gradientPowerPtr, rows: this.gradientPowerPtr + (this.width / 2 + 1) * 8 };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gradientPowerPtr) this.mod._pffft_aligned_free(this.gradientPowerPtr);
    this.mod._pffft_destroy_setup(this.rowSetup);
    this.mod._pffft_destroy_setup(this.colSetup);
    this.mod._pffft_aligned_free(this.rowPtr);
    this.mod._pffft_aligned_free(this.spectrumPtr);
    this.mod._pffft_aligned_free(this.workPtr);
  }
}

/** Planes up to this many floats keep their plans (the estimate's scales, the guard's trials). */
const KEPT_PLAN_FLOATS = 1 << 20;

/**
 * Plans by size, reused across tiles and iterations of one thread (setups and buffers are costly to make), and the
 * thread's scratch block for arenas.
 */
export class FftCache {
  private readonly plans = new Map<string, RealFft2d>();
  private scratch = 0;
  private scratchFloats = 0;
  constructor(readonly mod: MapWasm) {}

  /**
   * An arena of `floats` floats in the thread's one scratch block, grown when a larger one is asked for and kept: the
   * tiles of a photo reuse it instead of leaving holes of every size in a memory that cannot shrink. For synchronous
   * work only, since the next arena reuses the same block.
   */
  arena(floats: number): HeapArena {
    if (floats > this.scratchFloats) {
      if (this.scratch) this.mod._pffft_aligned_free(this.scratch);
      // a little headroom, so that tiles a few pixels larger do not each move the block
      this.scratchFloats = Math.ceil(floats * 1.1);
      this.scratch = this.mod._pffft_aligned_malloc(this.scratchFloats * 4);
      if (!this.scratch) throw new Error(`out of memory for the MAP core's ${this.scratchFloats} floats of scratch`);
    }
    return new HeapArena(this.mod, this.scratch, this.scratchFloats);
  }

  /**
   * Runs `fn` with a plan for this size: the kept one where the size is small, else one made for the call and freed
   * once it is done (after its promise settles, for an async `fn`), so that a photo's tiles of many sizes do not
   * pile up plans in a memory that cannot shrink (a tile's plan is cheap beside its deconvolution).
   */
  withPlan<T>(width: number, height: number, fn: (fft: RealFft2d) => T): T {
    if (width * height <= KEPT_PLAN_FLOATS) return fn(this.get(width, height));
    const plan = new RealFft2d(this.mod, width, height);
    let result: T;
    try {
      result = fn(plan);
    } catch (err) {
      plan.dispose();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => plan.dispose()) as T;
    plan.dispose();
    return result;
  }

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
