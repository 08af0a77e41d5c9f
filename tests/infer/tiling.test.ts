import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planAxis, planTiles, readTileCHW, runTiled, type TileRunner } from '../../src-main/engine/infer/tiling.ts';
import { openSession, closeSessions, type ModelSession } from '../../src-main/engine/infer/session.ts';
import { deblurRaster } from '../../src-main/engine/infer/deblur.ts';
import { readFloatTile, type Raster } from '../../src-main/engine/image/raster.ts';
import { TinyOnnx, tinyDeblur, tinyPointwise } from '../helpers/tiny-onnx.ts';
import { gradientRaster, randomRaster } from '../helpers/rasters.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'nm-tiling-'));
after(async () => {
  await closeSessions();
  await rm(dir, { recursive: true, force: true });
});

test('tile plan: weights form a partition of unity, windows are multiples of the size multiple', () => {
  for (const [L, T, O, k] of [
    [1, 512, 64, 16], [15, 64, 16, 16], [100, 64, 16, 16], [203, 64, 16, 16], [1000, 512, 64, 16],
    [961, 512, 64, 16], [4032, 512, 64, 16], [6000, 512, 32, 32], [500, 128, 0, 8], [257, 96, 48, 16],
  ]) {
    const wins = planAxis(L, T, O, k);
    const sum = new Float64Array(L);
    for (const w of wins) {
      assert.equal(w.size % k, 0, `size multiple for L=${L}`);
      assert.ok(w.size <= T);
      for (let t = 0; t < w.size; t++) {
        const x = w.start + t;
        if (x >= 0 && x < L) sum[x] += w.weights[t];
      }
    }
    for (let x = 0; x < L; x++) assert.ok(Math.abs(sum[x] - 1) < 1e-6, `L=${L} T=${T} O=${O}: weight sum ${sum[x]} at ${x}`);
    // the outer overlap/4 px of a window edge that touches a neighbour never count
    const m = Math.floor(O / 4);
    for (let i = 0; i < wins.length; i++) {
      const w = wins[i];
      for (let t = 0; t < m; t++) {
        if (i > 0) assert.equal(w.weights[t], 0);
        if (i < wins.length - 1) assert.equal(w.weights[w.size - 1 - t], 0);
      }
      if (i > 0) assert.ok(wins[i - 1].start + wins[i - 1].size - w.start >= O, 'overlap at least the requested one');
    }
    // the first / last windows include replicated context beyond the image
    assert.equal(wins[0].start, 0 - m);
    assert.ok(wins[wins.length - 1].start + wins[wins.length - 1].size >= L + m);
  }
});

test('tile plan: defaults and validation', () => {
  const p = planTiles(4032, 3024, 16);
  assert.equal(p.tileWidth, 512);
  assert.equal(p.overlap, 64);
  assert.equal(p.tiles, p.cols.length * p.rows.length);
  assert.equal(planTiles(100, 50, 16).tiles, 1);
  assert.equal(planTiles(100, 50, 16).tileWidth, 144); // 100 + 2·16 context, rounded up to 16
  assert.equal(planTiles(100, 100, 16, { tileSize: 500 }).tileWidth, 144);
  assert.equal(planTiles(2000, 100, 16, { tileSize: 500 }).tileWidth, 512, 'tile size rounded up to the multiple');
  assert.throws(() => planTiles(100, 100, 16, { tileSize: 64, overlap: 40 }), /overlap/);
  assert.throws(() => planTiles(0, 100, 16), /empty/);
  const fixed = planTiles(100, 70, 16, {}, { width: 64, height: 48 });
  assert.equal(fixed.tileWidth, 64);
  assert.equal(fixed.tileHeight, 48);
});

test('readTileCHW matches raster.ts readFloatTile (edge replicate) at any offset', () => {
  for (const depth of [8, 16] as const) {
    const r = randomRaster(37, 23, depth, 4);
    for (const [x0, y0, w, h] of [[-5, -3, 16, 16], [30, 10, 16, 32], [0, 0, 37, 23], [-20, 15, 80, 16]]) {
      const a = readFloatTile(r, x0, y0, w, h);
      const b = readTileCHW(r, x0, y0, w, h, new Float32Array(3 * w * h));
      assert.deepEqual(b, a);
    }
  }
});

/** A JS "network" (identity) to test the tiler without ONNX Runtime. */
function identityRunner(k = 16, channels = 3): TileRunner & { calls: number; shapes: Set<string> } {
  return {
    outChannels: channels, sizeMultiple: k, fixedSize: null, calls: 0, shapes: new Set(),
    async run(input, h, w) {
      this.calls++;
      this.shapes.add(`${w}x${h}`);
      return { output: input.slice(0, channels * h * w), input };
    },
  };
}

function collect(r: Raster, channels = 3) {
  const out = new Float32Array(r.width * r.height * channels);
  const rowsSeen: number[] = [];
  const sink = (y0: number, rows: number, data: Float32Array, offset: number) => {
    for (let y = 0; y < rows; y++) rowsSeen.push(y0 + y);
    out.set(data.subarray(offset, offset + rows * r.width * channels), y0 * r.width * channels);
  };
  return { out, rowsSeen, sink };
}

test('tiled identity reproduces the image; every row is delivered once, top to bottom', async () => {
  const r = randomRaster(301, 217, 16, 2);
  const runner = identityRunner();
  const { out, rowsSeen, sink } = collect(r);
  const stats = await runTiled(runner, r, sink, { tileSize: 64, overlap: 16 });
  assert.equal(runner.calls, stats.plan.tiles);
  assert.deepEqual([...runner.shapes], ['64x64'], 'every tile has the same shape');
  assert.deepEqual(rowsSeen, Array.from({ length: r.height }, (_, i) => i));
  for (let i = 0; i < r.rgb.length; i++) assert.ok(Math.abs(out[i] - r.rgb[i] / 65535) < 1e-6, `pixel value ${i}`);
});

async function session(name: string, b: TinyOnnx): Promise<ModelSession> {
  return openSession(await b.save(path.join(dir, name)), { providers: ['cpu'] });
}

test('tiled output equals whole-image output within 1/255 (receptive field smaller than the margin)', async () => {
  const s = await session('g.onnx', tinyDeblur(7)); // receptive-field radius 2 < margin 16/4 = 4
  for (const [w, h, depth] of [[203, 157, 8], [256, 128, 16], [97, 310, 8]] as const) {
    const r = randomRaster(w, h, depth, w);
    const whole = await deblurRaster(s, r, { tileSize: 1024 });
    assert.equal(whole.tiles, 1);
    const tiled = await deblurRaster(s, r, { tileSize: 64, overlap: 16 });
    assert.ok(tiled.tiles >= 8, `${tiled.tiles} tiles`);
    let maxDiff = 0;
    for (let i = 0; i < whole.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole.data[i] - tiled.data[i]));
    assert.ok(maxDiff / 65535 <= 1 / 255, `max difference ${maxDiff / 65535} for ${w}×${h}`);
    assert.ok(maxDiff <= 2, `in fact equal up to rounding (${maxDiff}/65535)`);
  }
});

test('a pointwise network gives its exact per-pixel formula through tiling, padding and a fixed-size graph', async () => {
  const b = new TinyOnnx();
  const x = b.input('input', [1, 3, 48, 64]);
  const W = [0.9, 0.05, 0.05, 0.05, 0.9, 0.05, 0.05, 0.05, 0.9];
  const B = [0.01, 0, -0.01];
  b.output(b.conv(x, 3, { kernel: 1, weights: W, bias: B }), 'output', [1, 3, 48, 64]);
  const fixed = await session('fixed.onnx', b);
  const free = await session('pw.onnx', tinyPointwise());
  const r = randomRaster(131, 77, 8, 5);
  for (const s of [fixed, free]) {
    const res = await deblurRaster(s, r, { tileSize: 64, overlap: 16 });
    for (let p = 0; p < r.width * r.height; p++) {
      for (let c = 0; c < 3; c++) {
        let v = B[c];
        for (let j = 0; j < 3; j++) v += W[c * 3 + j] * (r.rgb[3 * p + j] / 255);
        const want = Math.round(Math.min(1, Math.max(0, v)) * 65535);
        assert.ok(Math.abs(res.data[3 * p + c] - want) <= 1, `pixel ${p} channel ${c}: ${res.data[3 * p + c]} vs ${want}`);
      }
    }
  }
});

/** Max |out(x+1) − out(x)| per column boundary x (over rows and channels), and per row boundary. */
function steps(data: Uint16Array, w: number, h: number) {
  const col = new Float64Array(w - 1);
  const row = new Float64Array(h - 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const i = 3 * (y * w + x) + c;
        if (x + 1 < w) col[x] = Math.max(col[x], Math.abs(data[i + 3] - data[i]) / 65535);
        if (y + 1 < h) row[y] = Math.max(row[y], Math.abs(data[i + 3 * w] - data[i]) / 65535);
      }
    }
  }
  return { col, row };
}

test('no seam on a smooth gradient: the step across a tile border is no larger than elsewhere', async () => {
  // Receptive-field radius 6 > margin (16/4 = 4): border pixels really differ between tiles, the blend must hide it.
  const b = new TinyOnnx(21);
  const x = b.input();
  let hdn = b.relu(b.conv(x, 6, { kernel: 5 }));
  hdn = b.relu(b.conv(hdn, 6, { kernel: 5 }));
  b.output(b.add(x, b.conv(hdn, 3, { kernel: 5, scale: 0.2 })));
  const s = await session('wide.onnx', b);
  const W = 320;
  const H = 224;
  const r = gradientRaster(W, H, 16);
  const check = async (overlap: number) => {
    const res = await deblurRaster(s, r, { tileSize: 64, overlap });
    const plan = planTiles(W, H, 16, { tileSize: 64, overlap });
    const { col, row } = steps(res.data, W, H);
    const border = (wins: typeof plan.cols, len: number) => {
      const set = new Set<number>();
      for (let i = 1; i < wins.length; i++) {
        const a = wins[i].start;
        const e = wins[i - 1].start + wins[i - 1].size;
        for (let p = Math.max(0, a - 1); p < Math.min(len - 1, e); p++) set.add(p);
      }
      return set;
    };
    const measure = (st: Float64Array, set: Set<number>) => {
      let atBorder = 0;
      let elsewhere = 0;
      for (let p = 8; p < st.length - 8; p++) { // away from the image's own edges
        if (set.has(p)) atBorder = Math.max(atBorder, st[p]);
        else elsewhere = Math.max(elsewhere, st[p]);
      }
      return { atBorder, elsewhere };
    };
    return { cols: measure(col, border(plan.cols, W)), rows: measure(row, border(plan.rows, H)) };
  };
  const blended = await check(16);
  for (const m of [blended.cols, blended.rows]) {
    assert.ok(m.elsewhere > 0);
    // a quarter of an 8-bit level at most (the hard joins below are 3 to 30 levels)
    assert.ok(m.atBorder <= m.elsewhere + 1 / 1000, `border step ${m.atBorder} vs elsewhere ${m.elsewhere}`);
  }
  // The same check catches the seams of butt-joined tiles (overlap 0), so it is a real test.
  const hard = await check(0);
  assert.ok(hard.cols.atBorder > hard.cols.elsewhere + 1 / 255 && hard.rows.atBorder > hard.rows.elsewhere + 1 / 255,
    `hard tile joins should show: ${JSON.stringify(hard)}`);
});

test('progress is reported per tile and an abort stops the run', async () => {
  const s = await session('g2.onnx', tinyDeblur(3));
  const r = randomRaster(200, 200, 8);
  const seen: number[] = [];
  const res = await deblurRaster(s, r, { tileSize: 64, overlap: 16, onProgress: (p) => seen.push(p.done) });
  assert.equal(seen[0], 0);
  assert.equal(seen[seen.length - 1], res.tiles);
  assert.deepEqual(seen, Array.from({ length: res.tiles + 1 }, (_, i) => i));

  const ac = new AbortController();
  let last = 0;
  await assert.rejects(
    deblurRaster(s, r, { tileSize: 64, overlap: 16, signal: ac.signal, onProgress: (p) => { last = p.done; if (p.done === 2) ac.abort(); } }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(last < res.tiles, 'stopped early');
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(deblurRaster(s, r, { signal: pre.signal }), (e: Error) => e.name === 'AbortError');
  // the session is still usable after an abort
  const again = await deblurRaster(s, r, { tileSize: 64, overlap: 16 });
  assert.deepEqual(again.data, res.data);
});
