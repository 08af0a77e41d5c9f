import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

/** A small textured photo (JPEG by default) with camera EXIF, made on the spot. */
export async function writeTestPhoto(file: string, opts: { width?: number; height?: number; seed?: number; format?: 'jpeg' | 'png' } = {}): Promise<string> {
  const width = opts.width ?? 96;
  const height = opts.height ?? 64;
  const seed = opts.seed ?? 1;
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      rgb[i] = (x * 7 + seed * 31) % 256;
      rgb[i + 1] = (y * 5 + ((x >> 3) & 1) * 90 + seed * 17) % 256;
      rgb[i + 2] = ((x ^ y) * 3 + seed * 11) % 256;
    }
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  const img = sharp(rgb, { raw: { width, height, channels: 3 } }).withExif({ IFD0: { Make: 'TestCam', Model: 'T-1' } });
  await (opts.format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(file);
  return file;
}

/** The bad inputs every command must survive with one clear line each. */
export async function writeBadInputs(dir: string): Promise<Record<string, string>> {
  await fs.mkdir(dir, { recursive: true });
  const good = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const files = {
    truncated: path.join(dir, 'truncated.jpg'),
    empty: path.join(dir, 'empty.jpg'),
    text: path.join(dir, 'notes.jpg'),
    tiny: path.join(dir, 'one-pixel.png'),
  };
  await fs.writeFile(files.truncated, good.subarray(0, Math.floor(good.length / 2)));
  await fs.writeFile(files.empty, '');
  await fs.writeFile(files.text, 'this is not a photo\n');
  await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toFile(files.tiny);
  return files;
}

/**
 * A photo with real structure (rectangles and discs of many sizes and edge directions) blurred by a straight
 * camera-shake streak of `streakPx` px at `angleDeg`: what the MAP core must find and undo.
 */
export async function writeShakenPhoto(file: string, opts: { width?: number; height?: number; seed?: number; streakPx?: number; angleDeg?: number } = {}): Promise<string> {
  const width = opts.width ?? 240;
  const height = opts.height ?? 160;
  let s = opts.seed ?? 1;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const planes = [0, 1, 2].map(() => new Float32Array(width * height).fill(0.45));
  for (let n = 0; n < 60; n++) {
    const cx = rnd() * width;
    const cy = rnd() * height;
    const r = 3 + rnd() * Math.min(width, height) * 0.12;
    const disc = rnd() < 0.4;
    const colour = [rnd(), rnd(), rnd()].map((v) => 0.1 + 0.8 * v);
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(height, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(width, cx + r); x++) {
        if (disc && (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        for (let c = 0; c < 3; c++) planes[c][y * width + x] = colour[c];
      }
    }
  }
  const len = opts.streakPx ?? 9;
  const a = ((opts.angleDeg ?? 20) * Math.PI) / 180;
  const taps: Array<[number, number]> = [];
  for (let i = 0; i < len; i++) taps.push([Math.round((i - (len - 1) / 2) * Math.cos(a)), Math.round((i - (len - 1) / 2) * Math.sin(a))]);
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (const [dx, dy] of taps) v += planes[c][Math.min(height - 1, Math.max(0, y - dy)) * width + Math.min(width - 1, Math.max(0, x - dx))];
        rgb[3 * (y * width + x) + c] = Math.round((v / taps.length) * 255);
      }
    }
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(rgb, { raw: { width, height, channels: 3 } }).withExif({ IFD0: { Make: 'TestCam', Model: 'T-1' } }).jpeg({ quality: 95 }).toFile(file);
  return file;
}
