/**
 * The MAP core's WebAssembly loops (src-main/engine/map/assembly) against their plain definitions: the FFT they
 * serve, the half-quadratic steps on the periodic differences, the per-bin solves. Sizes with widths that are not
 * multiples of four take both the four-at-a-time paths and the ones for the rest of a row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { FftCache, HeapArena, pffft, type MapWasm } from '../../src-main/engine/map/fft2d.ts';
import { HyperLaplacianShrink } from '../../src-main/engine/map/hyper-laplacian.ts';
import { gradientPowerParts } from '../../src-main/engine/map/periodic-gradients.ts';
import { compileMapKernels, KERNELS_MODULE } from '../../tools/wasm/compile-map-kernels.ts';

/** A fixed pseudo-random sequence in [0, 1). */
function sequence(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

const cache = pffft().then((m) => new FftCache(m));

/** Runs `body` with an arena of buffers in the shared memory (up to 64k floats). */
async function withHeap<T>(body: (heap: HeapArena, mod: MapWasm) => T): Promise<T> {
  const ffts = await cache;
  return body(ffts.arena(1 << 16), ffts.mod);
}

/** Dᵀ S(D x) by its definition: periodic forward differences, each pair shrunk by `step`, then their adjoint. */
function shrunkDifferences(x: Float32Array, W: number, H: number, step: (a: number, b: number) => [number, number]): Float32Array {
  const at = (c: number, r: number) => x[((r + H) % H) * W + ((c + W) % W)];
  const g = (c: number, r: number) => step(Math.fround(at(c + 1, r) - at(c, r)), Math.fround(at(c, r + 1) - at(c, r))).map(Math.fround);
  return Float32Array.from({ length: W * H }, (_, i) => {
    const [c, r] = [i % W, Math.floor(i / W)];
    return g(c - 1, r)[0] - g(c, r)[0] + g(c, r - 1)[1] - g(c, r)[1];
  });
}

test('the committed WebAssembly is what the AssemblyScript kernels compile to', async () => {
  assert.equal(await fs.readFile(KERNELS_MODULE, 'utf8'), await compileMapKernels(), 'run npm run build:wasm');
});

test('the kernels hold no data of their own, which instantiating them would write into the memory they share', async () => {
  const { MAP_KERNELS_WASM } = await import('../../src-main/engine/map/map-kernels-wasm.ts');
  const bytes = Buffer.from(MAP_KERNELS_WASM, 'base64');
  const sections: number[] = [];
  for (let p = 8; p < bytes.length; ) {
    sections.push(bytes[p++]);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      size |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    p += size;
  }
  assert.ok(sections.includes(10), 'a code section');
  assert.ok(!sections.includes(11), 'no data section');
});

test('the 2-D FFT is the discrete Fourier transform, and its inverse gives the plane back', async () => {
  const ffts = await cache;
  for (const [W, H] of [[32, 16], [64, 48]]) {
    const fft = ffts.get(W, H);
    const x = sequence(W * H, W);
    const spec = new Float32Array(fft.spectrumLength);
    fft.forward(x, spec);
    for (const [kx, ky] of [[0, 0], [1, 0], [3, 5], [W / 2, H - 1], [W / 2 - 1, 7]]) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < H; y++) {
        for (let c = 0; c < W; c++) {
          const phase = -2 * Math.PI * ((kx * c) / W + (ky * y) / H);
          re += x[y * W + c] * Math.cos(phase);
          im += x[y * W + c] * Math.sin(phase);
        }
      }
      const bin = 2 * (kx * H + ky);
      assert.ok(Math.abs(spec[bin] - re) < 1e-3 && Math.abs(spec[bin + 1] - im) < 1e-3, `bin (${kx}, ${ky}) of ${W}×${H}`);
    }
    const back = new Float32Array(W * H);
    fft.inverse(spec, back);
    for (let i = 0; i < W * H; i++) assert.ok(Math.abs(back[i] - x[i]) < 1e-5);
  }
});

test('the L0 step keeps a pair of differences only where its squared magnitude reaches the threshold', async () => {
  for (const [W, H] of [[37, 11], [64, 16]]) {
    const x = sequence(W * H, 7);
    const threshold = 0.2;
    const expected = shrunkDifferences(x, W, H, (a, b) => (a * a + b * b >= threshold ? [a, b] : [0, 0]));
    await withHeap((heap, mod) => {
      const at = heap.copyOf(x);
      mod.kernels.l0ShrinkDifferences(at, heap.alloc(W * H), heap.alloc(W * H), W, H, threshold);
      assert.deepEqual(heap.view(at, W * H), expected);
    });
  }
});

test("the hyper-Laplacian step interpolates its table, which solves the w-step: zero for small differences, shrunk toward zero for large ones", async () => {
  const shrink = new HyperLaplacianShrink(0.8);
  for (const beta of [8, 181]) {
    const step = shrink.step(beta);
    for (const v of [0.01, 0.05, 0.3, 1.2]) assert.ok(Math.abs(interpolate(step, v, beta) - shrink.solve(v, beta)) < 1e-3, `w(${v}) at β ${beta}`);
    for (const [W, H] of [[37, 11], [64, 16]]) {
      // differences from 0 to ±3: below the zero threshold, in the table and beyond it
      const x = sequence(W * H, beta).map((v, i) => (i % 5 === 0 ? 3 * v : 0.02 * v));
      const s = (v: number) => Math.sign(v) * interpolate(step, Math.abs(v), beta);
      const expected = shrunkDifferences(x, W, H, (a, b) => [s(a), s(b)]);
      await withHeap((heap, mod) => {
        const at = heap.copyOf(x);
        const gx = heap.alloc(W * H);
        const gy = heap.alloc(W * H);
        const table = heap.copyOf(step.table);
        mod.kernels.hyperLaplacianShrinkDifferences(at, gx, gy, W, H, table, step.scale, step.max, step.zeroBelow, shrink.alpha, beta);
        const got = heap.view(at, W * H);
        // equal as numbers (a difference shrunk to zero may be stored as +0 or −0)
        for (let i = 0; i < W * H; i++) assert.ok(got[i] === expected[i], `pixel ${i} of ${W}×${H}: ${got[i]} vs ${expected[i]}`);
      });
    }
  }
});

/** The tabulated w-step at v ≥ 0, by its definition: linear between table steps, the asymptote beyond the table. */
function interpolate(step: ReturnType<HyperLaplacianShrink['step']>, v: number, beta: number): number {
  if (v >= step.max) return v - (0.8 / beta) * Math.pow(v, 0.8 - 1);
  const p = v * step.scale;
  const j = Math.floor(p);
  return step.table[j] + (p - j) * (step.table[j + 1] - step.table[j]);
}

test('|D|² of a bin is the periodic differences\' power, kept as a column part and a row part', () => {
  const [W, H] = [64, 48];
  const { columns, rows } = gradientPowerParts(W, H);
  for (const [kx, ky] of [[0, 0], [1, 0], [0, 1], [32, 47], [13, 20]]) {
    const power = 2 - 2 * Math.cos((2 * Math.PI * kx) / W) + (2 - 2 * Math.cos((2 * Math.PI * ky) / H));
    assert.ok(Math.abs(columns[kx] - rows[ky] - power) < 1e-12, `bin (${kx}, ${ky})`);
  }
});

test('the per-bin solves are their formulas: half-quadratic, quadratic, the data term and the reblur', async () => {
  const [W, H] = [6, 4]; // 4 columns of 4 bins
  const bins = (W / 2 + 1) * H;
  const K = sequence(2 * bins, 1).map((v) => v - 0.5);
  const S = sequence(2 * bins, 2).map((v) => v - 0.5);
  const N = sequence(2 * bins, 3);
  // |K|² as a float32 plane would hold it; K0 is K without its constant bin, where |D|² is 0 too: no weight at all
  const KK = Float32Array.from({ length: bins }, (_, i) => K[2 * i] ** 2 + K[2 * i + 1] ** 2);
  const K0 = K.map((v, j) => (j < 2 ? 0 : v));
  const KK0 = KK.map((v, i) => (i === 0 ? 0 : v));
  const { columns, rows } = gradientPowerParts(W, H);
  const DD = (i: number) => Math.fround(columns[Math.floor(i / H)] - rows[i % H]);
  const [lambda, beta] = [300, 8];
  const expect = (f: (i: number) => [number, number]) => Float32Array.from({ length: 2 * bins }, (_, j) => f(j >> 1)[j & 1]);
  const parts = (heap: HeapArena): [number, number] => {
    const at = heap.alloc(2 * (columns.length + rows.length));
    new Float64Array(heap.view(at, 0).buffer, at, columns.length + rows.length).set([...columns, ...rows]);
    return [at, at + columns.length * 8];
  };
  const cases: Array<[string, (mod: MapWasm, heap: HeapArena, s: number) => void, Float32Array]> = [
    ['half-quadratic', (mod, heap, s) => mod.kernels.halfQuadraticSolve(s, heap.copyOf(N), heap.copyOf(K0), ...parts(heap), W, H, lambda, beta), expect((i) => {
      const d = lambda * KK0[i] + beta * DD(i);
      const inv = d > 1e-12 ? 1 / d : 0;
      return [(N[2 * i] + beta * S[2 * i]) * inv, (N[2 * i + 1] + beta * S[2 * i + 1]) * inv];
    })],
    ['quadratic', (mod, heap, s) => mod.kernels.quadraticSolve(heap.copyOf(K), s, s, ...parts(heap), W, H, lambda, 64), expect((i) => {
      const f = lambda / (lambda * KK[i] + 64 * DD(i));
      return [(K[2 * i] * S[2 * i] + K[2 * i + 1] * S[2 * i + 1]) * f, (K[2 * i] * S[2 * i + 1] - K[2 * i + 1] * S[2 * i]) * f];
    })],
    ['data term', (mod, heap, s) => mod.kernels.conjugateProduct(heap.copyOf(K), s, s, bins, lambda), expect((i) => [
      (K[2 * i] * S[2 * i] + K[2 * i + 1] * S[2 * i + 1]) * lambda,
      (K[2 * i] * S[2 * i + 1] - K[2 * i + 1] * S[2 * i]) * lambda,
    ])],
    ['reblur', (mod, heap, s) => mod.kernels.multiplySpectra(heap.copyOf(K), s, s, bins), expect((i) => [
      S[2 * i] * K[2 * i] - S[2 * i + 1] * K[2 * i + 1],
      S[2 * i] * K[2 * i + 1] + S[2 * i + 1] * K[2 * i],
    ])],
  ];
  for (const [name, run, expected] of cases) {
    await withHeap((heap, mod) => {
      const s = heap.copyOf(S);
      run(mod, heap, s);
      assert.deepEqual(heap.view(s, 2 * bins), expected, name);
    });
  }
});

test('clipped data is raised to the reblurred solution where that is brighter, and only where clipped', async () => {
  const observed = Float32Array.from([0.9, 0.99, 1, 1, 0.5]);
  const reblurred = Float32Array.from([1.2, 0.9, 1.3, 0.7, 2]);
  const clipped = Uint8Array.from([0, 1, 1, 1, 0]);
  await withHeap((heap, mod) => {
    const data = heap.copyOf(observed);
    const mask = heap.alloc(2);
    heap.bytes(mask, 5).set(clipped);
    mod.kernels.raiseClipped(data, heap.copyOf(observed), heap.copyOf(reblurred), mask, 5);
    assert.deepEqual(Array.from(heap.view(data, 5)), Array.from(Float32Array.from([0.9, 0.99, 1.3, 1, 0.5])));
  });
});
