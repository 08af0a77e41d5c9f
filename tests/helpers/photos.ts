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
