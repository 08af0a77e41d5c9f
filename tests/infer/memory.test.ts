/**
 * Peak memory on big photos, measured in a fresh child process (so earlier tests do not count):
 * 48 MP (8000×6000) must finish under 2 GB peak RSS, 12 MP (4032×3024) under 1.5 GB. The tiny 1×1-conv
 * network keeps this fast; the engine's own buffers (raster, result, band, tiles) are what is measured.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyPointwise, constantMotion } from '../helpers/tiny-onnx.ts';

const run = promisify(execFile);
const child = fileURLToPath(new URL('../helpers/infer-child.ts', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'nm-mem-'));
after(() => rm(dir, { recursive: true, force: true }));
const g = await tinyPointwise().save(path.join(dir, 'g.onnx'));
const m = await constantMotion(0.2, 0.3).save(path.join(dir, 'm.onnx'));

interface ChildResult { maxRssMB: number; seconds: number; tiles: number; provider: string; checksum: number }

async function measure(model: string, w: number, h: number, mode: string): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, model, String(w), String(h), mode], {
    maxBuffer: 1 << 20, timeout: 240_000,
  });
  const res = JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult;
  console.log(`# ${mode} ${w}×${h}: peak RSS ${res.maxRssMB.toFixed(0)} MB, ${res.seconds.toFixed(2)} s, ${res.tiles} tiles (${res.provider})`);
  return res;
}

test('48 MP deblur completes with peak RSS under 2 GB', { timeout: 300_000 }, async () => {
  const r = await measure(g, 8000, 6000, 'deblur');
  assert.ok(r.tiles > 200);
  assert.ok(r.maxRssMB < 2048, `peak RSS ${r.maxRssMB} MB`);
});

test('12 MP deblur + strength stays under 1.5 GB', { timeout: 300_000 }, async () => {
  const r = await measure(g, 4032, 3024, 'strength');
  assert.ok(r.maxRssMB < 1536, `peak RSS ${r.maxRssMB} MB`);
});

test('48 MP motion estimation completes with peak RSS under 2 GB', { timeout: 300_000 }, async () => {
  const r = await measure(m, 8000, 6000, 'motion');
  assert.ok(Math.abs(r.checksum - Math.hypot(0.2, 0.3) * 20) < 0.05, `blur score ${r.checksum}`);
  assert.ok(r.maxRssMB < 2048, `peak RSS ${r.maxRssMB} MB`);
});
