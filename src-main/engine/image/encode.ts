import { atomicWrite, checkWritableTarget } from './atomic-write.ts';
import { embedMetadata, type EmbedMetadata } from './embed/index.ts';
import { ImageError } from './errors.ts';
import { exifForExport } from './exif-blob.ts';
import type { ExportFormat } from './formats.ts';
import type { PhotoMetadata } from './metadata.ts';
import type { Depth, PixelArray, Raster } from './raster.ts';
import { sharp, type Sharp } from './sharp-setup.ts';

export interface ExportOptions {
  /** Where to write. The folder must exist. */
  path: string;
  format: ExportFormat;
  /** 1–100 for JPEG (default 92) and WebP (default 90); ignored for PNG/TIFF (lossless). */
  quality?: number;
  /** 8 or 16 for PNG/TIFF (default: the raster's depth); JPEG and WebP are always 8-bit. */
  bitDepth?: 8 | 16;
  /** Replace an existing file (never the source). Default false. */
  overwrite?: boolean;
  /** The photo the raster came from: refused as a target. */
  sourcePath?: string;
}

export interface ExportResult {
  path: string;
  format: ExportFormat;
  width: number;
  height: number;
  bitDepth: 8 | 16;
  /** Channels written: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: number;
  bytes: number;
  /** What could not be kept (e.g. alpha in a JPEG), for the user to see. */
  warnings: string[];
}

/** Each format's own limit on a side, for the message when its encoder refuses a size. */
const MAX_SIDE: Partial<Record<ExportFormat, number>> = { webp: 16383, jpeg: 65500 };
const FORMAT_NAME: Record<ExportFormat, string> = { jpeg: 'JPEG', png: 'PNG', tiff: 'TIFF', webp: 'WebP' };

/** The encoder's failure as an ImageError naming the output file. */
function encodeError(path: string, format: ExportFormat, size: { width: number; height: number }, e: unknown): ImageError {
  const raw = e instanceof Error ? e.message : String(e);
  const max = MAX_SIDE[format];
  if (max && (/too large|maximum supported image dimension|exceeds/i.test(raw) || size.width > max || size.height > max)) {
    return new ImageError(
      'too-large',
      path,
      `the image is too large for ${FORMAT_NAME[format]} (${size.width}×${size.height}; at most ${max} pixels a side)`,
      { cause: e },
    );
  }
  return new ImageError('failed', path, `the ${FORMAT_NAME[format]} encoder failed (${raw.split('\n')[0]})`, { cause: e });
}
const DEFAULT_DPI = 72;

function checkRaster(r: Raster, path: string): void {
  const bad = (why: string) => new ImageError('invalid-argument', path, `cannot export: ${why}`);
  if (!(Number.isInteger(r.width) && Number.isInteger(r.height) && r.width > 0 && r.height > 0)) throw bad(`the raster is ${r.width}×${r.height}`);
  if (r.depth !== 8 && r.depth !== 16) throw bad(`unsupported depth ${String(r.depth)}`);
  const n = r.width * r.height;
  const want = r.depth === 16 ? Uint16Array : Uint8Array;
  if (!(r.rgb instanceof want) || r.rgb.length !== n * 3) throw bad('the raster pixel buffer does not match its size and depth');
  if (r.alpha && (!(r.alpha instanceof want) || r.alpha.length !== n)) throw bad('the raster alpha buffer does not match its size and depth');
}

/** Interleave the raster into sharp's raw layout at `depth` (grey as one channel, alpha last). */
function toSharpPixels(r: Raster, depth: Depth, withAlpha: boolean): { data: PixelArray; channels: number } {
  const n = r.width * r.height;
  const grey = r.grey;
  const channels = (grey ? 1 : 3) + (withAlpha && r.alpha ? 1 : 0);
  if (channels === 3 && depth === r.depth) return { data: r.rgb, channels };
  const out: PixelArray = depth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  // 16 → 8 rounds to nearest (libvips' own conversion truncates); 8 → 16 is exact (×257)
  const conv =
    depth === r.depth ? (v: number) => v : depth === 8 ? (v: number) => Math.floor((v * 2 + 257) / 514) : (v: number) => v * 257;
  const { rgb, alpha } = r;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    if (grey) {
      out[o] = conv(Math.round((rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2]) / 3));
    } else {
      out[o] = conv(rgb[i * 3]);
      out[o + 1] = conv(rgb[i * 3 + 1]);
      out[o + 2] = conv(rgb[i * 3 + 2]);
    }
    if (channels === 2 || channels === 4) out[o + channels - 1] = conv(alpha![i]);
  }
  return { data: out, channels };
}

/** The ICC header's data colour space ('RGB', 'GRAY', 'CMYK'…), '' when unreadable. */
function iccColourSpace(icc: Uint8Array): string {
  return icc.length >= 20 ? Buffer.from(icc.buffer, icc.byteOffset + 16, 4).toString('latin1').trim() : '';
}

/** An ICC profile may only tag pixels of its own kind: GRAY for one channel, RGB for three. */
function iccFitsChannels(icc: Uint8Array, channels: number): boolean {
  const space = iccColourSpace(icc);
  return channels <= 2 ? space === 'GRAY' : space === 'RGB';
}

function encoder(format: ExportFormat, input: Sharp, quality: number | undefined): Sharp {
  switch (format) {
    case 'jpeg': {
      const q = quality ?? 92;
      return input.jpeg({ quality: q, chromaSubsampling: q >= 90 ? '4:4:4' : '4:2:0', mozjpeg: false });
    }
    case 'webp':
      return input.webp({ quality: quality ?? 90, alphaQuality: 100, effort: 4 });
    case 'png':
      return input.png({ compressionLevel: 6, adaptiveFiltering: true });
    case 'tiff':
      return input.tiff({ compression: 'deflate', predictor: 'horizontal' });
  }
}

/**
 * Encode `raster` to `opts.path` with the photo's metadata: EXIF (camera, lens, exposure, dates,
 * GPS… with Orientation reset to 1, as the pixels are already oriented), ICC profile, XMP and
 * DPI. Written atomically (temp file + fsync + rename), never over the source, never over an
 * existing file unless `overwrite`. Grey rasters are written as one channel, alpha kept where the
 * format has it (not JPEG). 16-bit rasters give 16-bit PNG/TIFF.
 */
export async function exportImage(raster: Raster, metadata: PhotoMetadata | null, opts: ExportOptions): Promise<ExportResult> {
  const { path, format } = opts;
  if (!['jpeg', 'png', 'tiff', 'webp'].includes(format)) {
    throw new ImageError('unsupported', path, `cannot export as "${String(format)}" (use jpeg, png, tiff or webp)`);
  }
  checkRaster(raster, path);
  const lossy = format === 'jpeg' || format === 'webp';
  if (opts.bitDepth !== undefined && opts.bitDepth !== 8 && opts.bitDepth !== 16) {
    throw new ImageError('invalid-argument', path, `cannot export: bit depth must be 8 or 16, not ${String(opts.bitDepth)}`);
  }
  if (lossy && opts.bitDepth === 16) {
    throw new ImageError('unsupported', path, `${format === 'jpeg' ? 'JPEG' : 'WebP'} is 8-bit only (use PNG or TIFF for 16-bit)`);
  }
  if (opts.quality !== undefined && !(Number.isInteger(opts.quality) && opts.quality >= 1 && opts.quality <= 100)) {
    throw new ImageError('invalid-argument', path, `cannot export: quality must be an integer from 1 to 100, not ${opts.quality}`);
  }
  const depth: Depth = lossy ? 8 : (opts.bitDepth ?? raster.depth);
  // fail before any work when the target cannot be written
  await checkWritableTarget(path, opts);

  const warnings: string[] = [];
  const keepAlpha = raster.alpha !== null && format !== 'jpeg';
  if (raster.alpha && !keepAlpha) warnings.push('JPEG has no transparency: the alpha channel was left out');
  const size = { width: raster.width, height: raster.height };
  const meta: EmbedMetadata = {
    exif: metadata?.exif ? exifForExport(metadata.exif, size) : null,
    icc: metadata?.icc ?? null,
    xmp: metadata?.xmp ?? null,
    density: metadata?.density ?? DEFAULT_DPI,
  };
  if (metadata?.exif && !meta.exif) warnings.push('EXIF left out: it could not be parsed');

  const { data, channels } = toSharpPixels(raster, depth, keepAlpha);
  if (meta.icc && !iccFitsChannels(meta.icc, channels)) {
    warnings.push(`ICC profile left out: it describes ${iccColourSpace(meta.icc) || 'another'} data, the image is ${channels <= 2 ? 'grey' : 'RGB'}`);
    meta.icc = null;
  }
  const bytes = await atomicWrite(
    path,
    async (file) => {
      let input = sharp(data, { raw: { width: raster.width, height: raster.height, channels: channels as 1 | 2 | 3 | 4 }, limitInputPixels: false });
      const grey = channels <= 2;
      input = input.toColourspace(grey ? (depth === 16 ? 'grey16' : 'b-w') : depth === 16 ? 'rgb16' : 'srgb');
      let encoded: Buffer;
      try {
        encoded = await encoder(format, input, opts.quality).toBuffer();
      } catch (e) {
        throw encodeError(path, format, size, e);
      }
      const withMeta = embedMetadata(format, encoded, meta, size, warnings);
      await file.writeFile(withMeta);
    },
    opts,
  );
  return { path, format, width: raster.width, height: raster.height, bitDepth: depth, channels, bytes, warnings };
}
