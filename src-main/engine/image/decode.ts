import { SOURCE_FORMAT_NAMES, type SourceFormat } from './formats.ts';
import { decodeHeif } from './heic.ts';
import { builtinIcc } from './icc-profiles.ts';
import { resolveLimits, type SizeLimits } from './limits.ts';
import { asOrientation, metadataFromHeader, summarizeExif, type Orientation, type PhotoMetadata } from './metadata.ts';
import { probeImage } from './probe.ts';
import type { Raster } from './raster.ts';
import { decodeWithSharp } from './sharp-decode.ts';

export type DecodeOptions = SizeLimits;

export interface SourceInfo {
  path: string;
  format: SourceFormat;
  /** Size as stored in the file, before orientation. */
  width: number;
  height: number;
  /**
   * The orientation that was applied to reach the raster (EXIF Orientation for JPEG/PNG/TIFF/WebP;
   * for HEIF/AVIF the equivalent of the container's rotate/mirror properties).
   */
  orientation: Orientation;
  /** Bits per sample in the file (8, 10, 12, 16…; 32 for float TIFF). */
  bitDepth: number;
  fileSize: number;
  /** The pixels were converted to sRGB because the source was CMYK, Lab or another non-RGB space. */
  convertedToSrgb: boolean;
}

export interface DecodedPhoto {
  raster: Raster;
  metadata: PhotoMetadata;
  source: SourceInfo;
}

const BITS: Record<string, number> = { uchar: 8, char: 8, ushort: 16, short: 16, uint: 32, int: 32, float: 32, double: 64 };

/**
 * Decode a photo file into a display-oriented raster with the metadata export needs.
 * The format is told from the content, never the name. Images over `maxPixels` (default 120 MP)
 * or under `minSide` (default 16 px) are refused before any pixel is decoded.
 * Every failure is an ImageError whose message is one line naming the file.
 */
export async function decodeImage(path: string, opts: DecodeOptions = {}): Promise<DecodedPhoto> {
  const limits = resolveLimits(opts);
  const probe = await probeImage(path, limits);
  const formatName = SOURCE_FORMAT_NAMES[probe.format];

  if (probe.format === 'heif') {
    const heif = decodeHeif(path, probe.data!, limits);
    const metadata: PhotoMetadata = probe.header
      ? await metadataFromHeader(path, probe.format, probe.header)
      : { summary: await summarizeExif(null), exif: null, icc: null, xmp: null, density: null };
    // HEIF signalling Display P3 (primaries 12) through nclx rather than an ICC profile
    if (!metadata.icc && heif.nclx?.primaries === 12) metadata.icc = await builtinIcc('p3');
    return {
      raster: heif.raster,
      metadata,
      source: {
        path,
        format: probe.format,
        width: heif.storedWidth,
        height: heif.storedHeight,
        orientation: heif.orientation,
        bitDepth: heif.bitDepth,
        fileSize: probe.fileSize,
        convertedToSrgb: false,
      },
    };
  }

  const header = probe.header!;
  const { raster, convertedToSrgb } = await decodeWithSharp(path, formatName, header, limits.maxPixels);
  const metadata = await metadataFromHeader(path, probe.format, header);
  if (convertedToSrgb) metadata.icc = await builtinIcc('srgb');
  return {
    raster,
    metadata,
    source: {
      path,
      format: probe.format,
      width: probe.width,
      height: probe.height,
      orientation: asOrientation(header.orientation),
      bitDepth: header.bitsPerSample ?? BITS[header.depth ?? 'uchar'] ?? 8,
      fileSize: probe.fileSize,
      convertedToSrgb,
    },
  };
}

/**
 * The metadata of a photo (EXIF summary, ICC, XMP, DPI) from its header, without decoding pixels.
 * No size limits apply unless given: any photo's details can be shown, even one too large to open.
 */
export async function readPhotoMetadata(path: string, opts: DecodeOptions = {}): Promise<PhotoMetadata> {
  const probe = await probeImage(path, resolveLimits({ maxPixels: Number.MAX_SAFE_INTEGER, minSide: 1, ...opts }));
  if (!probe.header) return { summary: await summarizeExif(null), exif: null, icc: null, xmp: null, density: null };
  return metadataFromHeader(path, probe.format, probe.header);
}
