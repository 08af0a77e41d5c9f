/**
 * The MAP core's per-pixel loops in WebAssembly (AssemblyScript, compiled by `npm run build:wasm` into
 * ../map-kernels-wasm.ts): the FFT's transposes and the half-quadratic steps, run on buffers in PFFFT's own memory
 * (imported), where the transforms read and write them. In JavaScript these loops cost as much as the FFTs.
 *
 * Every result is the one the JavaScript loops gave, bit for bit: planes are float32, arithmetic in float64,
 * rounded to float32 where a value is stored, as JavaScript does with typed arrays.
 * Addresses are byte offsets; sizes are in elements. The module must hold no data of its own (it would be written
 * into PFFFT's memory): powers come from the host's Math.pow, which is also what the JavaScript loops called.
 */

@external("env", "pow")
declare function hostPow(x: f64, y: f64): f64;

// Four float32 lanes as two float64 pairs and back: the arithmetic JavaScript does in float64, four at a time.
// @ts-ignore: decorator
@inline
function lowF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
}

// @ts-ignore: decorator
@inline
function toF32(low: v128, high: v128): v128 {
  return i64x2.shuffle(f32x4.demote_f64x2_zero(low), f32x4.demote_f64x2_zero(high), 0, 2);
}

/** Two float64 lane masks as one of four float32 lanes. */
// @ts-ignore: decorator
@inline
function narrowMask(low: v128, high: v128): v128 {
  return i32x4.shuffle(low, high, 0, 2, 4, 6);
}

/** Row spectra (PFFFT's ordered real output: X0, X(W/2), then complex bins) → W/2+1 complex columns of H. */
export function rowsToColumns(rows: usize, cols: usize, W: i32, H: i32): void {
  const last = cols + <usize>(W / 2) * (<usize>H << 3);
  for (let y = 0; y < H; y++) {
    const r = rows + <usize>y * (<usize>W << 2);
    store<f32>(cols + (<usize>y << 3), load<f32>(r));
    store<f32>(cols + (<usize>y << 3) + 4, 0);
    store<f32>(last + (<usize>y << 3), load<f32>(r + 4));
    store<f32>(last + (<usize>y << 3) + 4, 0);
  }
  moveBins(rows, cols, W, H, true);
}

/** The inverse of rowsToColumns (the columns' imaginary DC and Nyquist parts are dropped). */
export function columnsToRows(cols: usize, rows: usize, W: i32, H: i32): void {
  const last = cols + <usize>(W / 2) * (<usize>H << 3);
  for (let y = 0; y < H; y++) {
    const r = rows + <usize>y * (<usize>W << 2);
    store<f32>(r, load<f32>(cols + (<usize>y << 3)));
    store<f32>(r + 4, load<f32>(last + (<usize>y << 3)));
  }
  moveBins(rows, cols, W, H, false);
}

/**
 * The complex bins 1 … W/2−1 between rows and columns (one complex value is 8 bytes), in blocks of 8 rows, so the
 * rows stay in cache while the columns are walked in order.
 */
// @ts-ignore: decorator
@inline
function moveBins(rows: usize, cols: usize, W: i32, H: i32, toColumns: bool): void {
  const rowBytes = <usize>W << 2;
  const colBytes = <usize>H << 3;
  for (let y0 = 0; y0 < H; y0 += 8) {
    const y1 = min(H, y0 + 8);
    for (let k = 1; k < W / 2; k++) {
      let r = rows + <usize>y0 * rowBytes + (<usize>k << 3);
      let c = cols + <usize>k * colBytes + (<usize>y0 << 3);
      for (let y = y0; y < y1; y++) {
        if (toColumns) store<u64>(c, load<u64>(r));
        else store<u64>(r, load<u64>(c));
        r += rowBytes;
        c += 8;
      }
    }
  }
}

/** dst[i] = src[i]·scale for n values (dst may be src). */
export function scale(src: usize, dst: usize, n: i32, factor: f64): void {
  const f = f64x2.splat(factor);
  let i: usize = 0;
  for (; i + 4 <= <usize>n; i += 4) {
    const v = v128.load(src + (i << 2));
    v128.store(dst + (i << 2), toF32(f64x2.mul(lowF64(v), f), f64x2.mul(highF64(v), f)));
  }
  for (; i < <usize>n; i++) store<f32>(dst + (i << 2), <f32>(<f64>load<f32>(src + (i << 2)) * factor));
}

/**
 * x ← Dᵀ T(D x) on a periodic W×H plane, T the L0 step: a pixel's pair of forward differences survives only where its
 * squared magnitude reaches `threshold`. gx, gy: W×H scratch.
 */
export function l0ShrinkDifferences(x: usize, gx: usize, gy: usize, W: i32, H: i32, threshold: f64): void {
  const rowBytes = <usize>W << 2;
  const t = f64x2.splat(threshold);
  for (let r = 0; r < H; r++) {
    const row = x + <usize>r * rowBytes;
    const below = r == H - 1 ? x : row + rowBytes;
    const o = <usize>r * rowBytes;
    let c = 0;
    // four pixels at a time while all four right neighbours are inside the row
    for (; c + 4 < W; c += 4) {
      const at = <usize>c << 2;
      const v = v128.load(row + at);
      const a = f32x4.sub(v128.load(row + at + 4), v);
      const b = f32x4.sub(v128.load(below + at), v);
      const aL = lowF64(a);
      const aH = highF64(a);
      const bL = lowF64(b);
      const bH = highF64(b);
      const keep = narrowMask(
        f64x2.ge(f64x2.add(f64x2.mul(aL, aL), f64x2.mul(bL, bL)), t),
        f64x2.ge(f64x2.add(f64x2.mul(aH, aH), f64x2.mul(bH, bH)), t),
      );
      v128.store(gx + o + at, v128.and(a, keep));
      v128.store(gy + o + at, v128.and(b, keep));
    }
    for (; c < W; c++) {
      const at = <usize>c << 2;
      const v = load<f32>(row + at);
      const a = <f64>((c + 1 < W ? load<f32>(row + at + 4) : load<f32>(row)) - v);
      const b = <f64>(load<f32>(below + at) - v);
      const keep = a * a + b * b >= threshold;
      store<f32>(gx + o + at, keep ? <f32>a : 0);
      store<f32>(gy + o + at, keep ? <f32>b : 0);
    }
  }
  adjointDifferences(x, gx, gy, W, H);
}

/**
 * x ← Dᵀ S(D x), S the hyper-Laplacian's half-quadratic w-step tabulated for one β (hyper-laplacian.ts): zero below
 * `zeroBelow`, interpolated in the table up to `tableMax`, its asymptote beyond. gx, gy: W×H scratch.
 */
export function hyperLaplacianShrinkDifferences(x: usize, gx: usize, gy: usize, W: i32, H: i32, table: usize, tableScale: f64, tableMax: f64, zeroBelow: f64, alpha: f64, beta: f64): void {
  const rowBytes = <usize>W << 2;
  const z = f64x2.splat(zeroBelow);
  for (let r = 0; r < H; r++) {
    const row = x + <usize>r * rowBytes;
    const below = r == H - 1 ? x : row + rowBytes;
    const o = <usize>r * rowBytes;
    let c = 0;
    for (; c + 4 < W; c += 4) {
      const at = <usize>c << 2;
      const v = v128.load(row + at);
      const a = f32x4.sub(v128.load(row + at + 4), v);
      const b = f32x4.sub(v128.load(below + at), v);
      const absA = f32x4.abs(a);
      const absB = f32x4.abs(b);
      // most differences shrink to zero: four pairs at once where they all do
      const small = v128.and(
        v128.and(f64x2.lt(lowF64(absA), z), f64x2.lt(highF64(absA), z)),
        v128.and(f64x2.lt(lowF64(absB), z), f64x2.lt(highF64(absB), z)),
      );
      if (i64x2.all_true(small)) {
        v128.store(gx + o + at, f32x4.splat(0));
        v128.store(gy + o + at, f32x4.splat(0));
        continue;
      }
      for (let lane: u8 = 0; lane < 4; lane++) {
        const p = at + (<usize>lane << 2);
        store<f32>(gx + o + p, shrink(load<f32>(row + p + 4) - load<f32>(row + p), table, tableScale, tableMax, zeroBelow, alpha, beta));
        store<f32>(gy + o + p, shrink(load<f32>(below + p) - load<f32>(row + p), table, tableScale, tableMax, zeroBelow, alpha, beta));
      }
    }
    for (; c < W; c++) {
      const at = <usize>c << 2;
      const v = load<f32>(row + at);
      const a = (c + 1 < W ? load<f32>(row + at + 4) : load<f32>(row)) - v;
      const b = load<f32>(below + at) - v;
      store<f32>(gx + o + at, shrink(a, table, tableScale, tableMax, zeroBelow, alpha, beta));
      store<f32>(gy + o + at, shrink(b, table, tableScale, tableMax, zeroBelow, alpha, beta));
    }
  }
  adjointDifferences(x, gx, gy, W, H);
}

// @ts-ignore: decorator
@inline
function shrink(value: f32, table: usize, tableScale: f64, tableMax: f64, zeroBelow: f64, alpha: f64, beta: f64): f32 {
  const v = <f64>value;
  const a = v < 0 ? -v : v;
  let w: f64;
  if (a < zeroBelow) w = 0;
  else if (a >= tableMax) w = a - (alpha / beta) * hostPow(a, alpha - 1);
  else {
    const p = a * tableScale;
    const j = <i32>p;
    const f = p - <f64>j;
    const t0 = <f64>load<f32>(table + (<usize>j << 2));
    const t1 = <f64>load<f32>(table + (<usize>(j + 1) << 2));
    w = t0 + f * (t1 - t0);
  }
  return <f32>(v < 0 ? -w : w);
}

/** x ← Dᵀ (gx, gy): backward differences of the shrunk forward ones (periodic). */
function adjointDifferences(x: usize, gx: usize, gy: usize, W: i32, H: i32): void {
  const rowBytes = <usize>W << 2;
  const plane = <usize>H * rowBytes;
  for (let r = 0; r < H; r++) {
    const o = <usize>r * rowBytes;
    const above = r == 0 ? plane - rowBytes : o - rowBytes;
    const lastX = <f64>load<f32>(gx + o + rowBytes - 4);
    store<f32>(x + o, <f32>(lastX - <f64>load<f32>(gx + o) + <f64>load<f32>(gy + above) - <f64>load<f32>(gy + o)));
    let c = 1;
    for (; c + 4 <= W; c += 4) {
      const at = <usize>c << 2;
      const left = v128.load(gx + o + at - 4);
      const here = v128.load(gx + o + at);
      const up = v128.load(gy + above + at);
      const down = v128.load(gy + o + at);
      const low = f64x2.sub(f64x2.add(f64x2.sub(lowF64(left), lowF64(here)), lowF64(up)), lowF64(down));
      const high = f64x2.sub(f64x2.add(f64x2.sub(highF64(left), highF64(here)), highF64(up)), highF64(down));
      v128.store(x + o + at, toF32(low, high));
    }
    for (; c < W; c++) {
      const at = <usize>c << 2;
      store<f32>(x + o + at, <f32>(<f64>load<f32>(gx + o + at - 4) - <f64>load<f32>(gx + o + at) + <f64>load<f32>(gy + above + at) - <f64>load<f32>(gy + o + at)));
    }
  }
}

/** |K|² of two bins from their spectrum (four floats), rounded to float32 as a plane of it was. */
// @ts-ignore: decorator
@inline
function kernelPower2(k: usize): v128 {
  const v = v128.load(k);
  const low = lowF64(v);
  const high = highF64(v);
  const squares = f64x2.add(f64x2.mul(f64x2.shuffle(low, high, 0, 2), f64x2.shuffle(low, high, 0, 2)), f64x2.mul(f64x2.shuffle(low, high, 1, 3), f64x2.shuffle(low, high, 1, 3)));
  return lowF64(f32x4.demote_f64x2_zero(squares));
}

/** |K|² of one bin, rounded as above. */
// @ts-ignore: decorator
@inline
function kernelPower(k: usize): f64 {
  const kr = <f64>load<f32>(k);
  const ki = <f64>load<f32>(k + 4);
  return <f64><f32>(kr * kr + ki * ki);
}

/**
 * |D|² of one bin, from its column's and row's parts (periodic-gradients.ts: (2 − 2cos ωx + 2) − 2cos ωy, rounded
 * to float32 as the plane of it was).
 */
// @ts-ignore: decorator
@inline
function gradientPowerAt(columns: usize, rows: usize, kx: usize, ky: usize): f64 {
  return <f64><f32>(load<f64>(columns + (kx << 3)) - load<f64>(rows + (ky << 3)));
}

/**
 * The half-quadratic x-step in Fourier space, bin by bin: S ← (N + β·S) / (λ·|K|² + β·|D|²), where N is the data
 * term's λ·Kᵀy; a bin with no weight at all becomes zero. |K|² comes from the kernel's spectrum K, |D|² from its
 * column and row parts (`columns`: W/2+1 float64, `rows`: H float64); bins run down each column.
 */
export function halfQuadraticSolve(spec: usize, numer: usize, k: usize, columns: usize, rows: usize, W: i32, H: i32, lambda: f64, beta: f64): void {
  const l = f64x2.splat(lambda);
  const b = f64x2.splat(beta);
  const one = f64x2.splat(1);
  const tiny = f64x2.splat(1e-12);
  const C = <usize>(W / 2 + 1);
  const h = <usize>H;
  for (let kx: usize = 0; kx < C; kx++) {
    const cx = f64x2.splat(load<f64>(columns + (kx << 3)));
    // two bins (four floats) at a time: H is even
    for (let ky: usize = 0; ky < h; ky += 2) {
      const i = kx * h + ky;
      const dd = lowF64(f32x4.demote_f64x2_zero(f64x2.sub(cx, v128.load(rows + (ky << 3)))));
      const d = f64x2.add(f64x2.mul(l, kernelPower2(k + (i << 3))), f64x2.mul(b, dd));
      const inv = v128.and(f64x2.div(one, d), f64x2.gt(d, tiny));
      const s = v128.load(spec + (i << 3));
      const n = v128.load(numer + (i << 3));
      const low = f64x2.mul(f64x2.add(lowF64(n), f64x2.mul(b, lowF64(s))), f64x2.shuffle(inv, inv, 0, 0));
      const high = f64x2.mul(f64x2.add(highF64(n), f64x2.mul(b, highF64(s))), f64x2.shuffle(inv, inv, 1, 1));
      v128.store(spec + (i << 3), toF32(low, high));
    }
  }
}

/** out ← K·S bin by bin (complex; out may be S): a spectrum reblurred by the kernel. */
export function multiplySpectra(k: usize, spec: usize, out: usize, bins: i32): void {
  for (let i: usize = 0; i < <usize>bins; i++) {
    const kr = <f64>load<f32>(k + (i << 3));
    const ki = <f64>load<f32>(k + (i << 3) + 4);
    const sr = <f64>load<f32>(spec + (i << 3));
    const si = <f64>load<f32>(spec + (i << 3) + 4);
    store<f32>(out + (i << 3), <f32>(sr * kr - si * ki));
    store<f32>(out + (i << 3) + 4, <f32>(sr * ki + si * kr));
  }
}

/** out ← conj(K)·S·factor bin by bin (out may be S): the data term's λ·Kᵀy in Fourier space. */
export function conjugateProduct(k: usize, spec: usize, out: usize, bins: i32, factor: f64): void {
  for (let i: usize = 0; i < <usize>bins; i++) {
    const kr = <f64>load<f32>(k + (i << 3));
    const ki = <f64>load<f32>(k + (i << 3) + 4);
    const sr = <f64>load<f32>(spec + (i << 3));
    const si = <f64>load<f32>(spec + (i << 3) + 4);
    store<f32>(out + (i << 3), <f32>((kr * sr + ki * si) * factor));
    store<f32>(out + (i << 3) + 4, <f32>((kr * si - ki * sr) * factor));
  }
}

/** Where `clipped` (one byte a pixel) is set, data ← max(observed, reblurred): a clipped value is a lower bound. */
export function raiseClipped(data: usize, observed: usize, reblurred: usize, clipped: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    if (load<u8>(clipped + i)) store<f32>(data + (i << 2), max(load<f32>(observed + (i << 2)), load<f32>(reblurred + (i << 2))));
  }
}

/**
 * out ← conj(K)·S·λ / (λ·|K|² + γ·|D|²) bin by bin (out may be S): deconvolution with a quadratic gradient prior in
 * one solve (|D|² as in halfQuadraticSolve).
 */
export function quadraticSolve(k: usize, spec: usize, out: usize, columns: usize, rows: usize, W: i32, H: i32, lambda: f64, gamma: f64): void {
  const C = <usize>(W / 2 + 1);
  const h = <usize>H;
  for (let kx: usize = 0; kx < C; kx++) {
    for (let ky: usize = 0; ky < h; ky++) {
      const i = kx * h + ky;
      const f = lambda / (lambda * kernelPower(k + (i << 3)) + gamma * gradientPowerAt(columns, rows, kx, ky));
      const kr = <f64>load<f32>(k + (i << 3));
      const ki = <f64>load<f32>(k + (i << 3) + 4);
      const sr = <f64>load<f32>(spec + (i << 3));
      const si = <f64>load<f32>(spec + (i << 3) + 4);
      store<f32>(out + (i << 3), <f32>((kr * sr + ki * si) * f));
      store<f32>(out + (i << 3) + 4, <f32>((kr * si - ki * sr) * f));
    }
  }
}
