/** Shared helpers of the image pipeline tests: temp folders and small test images made with sharp. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import sharp from 'sharp';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const FIXTURES = join(REPO_ROOT, 'tests', 'fixtures', 'image');

/** A fresh temp folder removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'neurmap-image-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Deterministic, varied 8-bit RGB pixels (no two neighbours alike). */
export function noiseRgb8(width: number, height: number, seed = 1): Uint8Array {
  const px = new Uint8Array(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 24;
  }
  return px;
}

/** Deterministic 16-bit RGB pixels using the full 16-bit range (low bytes matter). */
export function noiseRgb16(width: number, height: number, seed = 7): Uint16Array {
  const px = new Uint16Array(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < px.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    px[i] = s >>> 16;
  }
  return px;
}

/** A smooth 8-bit RGB gradient (what JPEG compresses well, for tolerance checks). */
export function gradientRgb8(width: number, height: number): Uint8Array {
  const px = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = Math.round((x * 255) / (width - 1));
      px[i + 1] = Math.round((y * 255) / (height - 1));
      px[i + 2] = 128;
    }
  }
  return px;
}

export function rawSharp(data: Uint8Array | Uint16Array, width: number, height: number, channels: 1 | 2 | 3 | 4) {
  return sharp(data, { raw: { width, height, channels } });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} ≠ ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

let crcTable: Uint32Array | undefined;
/** CRC-32 as PNG uses it (kept here so the tests do not lean on the code under test). */
export function pngCrc(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A valid small PNG whose header is rewritten to claim `width`×`height` (pixel data unchanged). */
export async function pngClaimingSize(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await rawSharp(noiseRgb8(16, 16), 16, 16, 3).png().toBuffer());
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(pngCrc(png.subarray(12, 29)), 29);
  return png;
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let nobodyOk: boolean | undefined;
/** Whether the user `nobody` can load this checkout (a clone under a private home folder cannot). */
export function canRunAsNobody(): boolean {
  if (nobodyOk === undefined) {
    const probe = join(REPO_ROOT, 'node_modules', 'tsx', 'package.json');
    const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(probe)})`], {
      uid: 65534,
      gid: 65534,
      timeout: 20_000,
    });
    nobodyOk = r.status === 0;
  }
  return nobodyOk;
}

/**
 * Run `tests/image/helpers/run-as-user.ts <op> <json args>` as the unprivileged user `nobody`
 * (tests run as root, and root reads and writes everything): returns what the pipeline threw.
 */
export function runAsNobody(op: 'decode' | 'export', args: Record<string, unknown>): { code?: string; message?: string; ok?: boolean } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tests/image/helpers/run-as-user.ts'), op, JSON.stringify(args)], {
    cwd: REPO_ROOT,
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    env: { ...process.env, HOME: tmpdir() },
    timeout: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { code?: string; message?: string; ok?: boolean };
  } catch {
    throw new Error(`child failed (status ${r.status}): ${r.stderr || r.stdout}`);
  }
}
