import exifr from 'exifr';
import type { SharpMetadata } from './sharp-setup.ts';
import { exifFromTiffFile, normalizeExif } from './exif-blob.ts';
import type { SourceFormat } from './formats.ts';

export type Orientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** What a photo's EXIF says, as plain values (safe to send over IPC or print; the app shows the first eight). */
export interface ExifSummary {
  make?: string;
  model?: string;
  lens?: string;
  /** Seconds, e.g. 0.008 for 1/125 s. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  /** Millimetres (the real focal length). */
  focalLength?: number;
  /** Local time the photo was taken, "2024-05-06T07:08:09", with "+02:00" appended when the camera recorded the offset. */
  dateTaken?: string;
  /** The full-frame equivalent of `focalLength`, when recorded. */
  focalLength35mm?: number;
  /** The EXIF Orientation tag as recorded (1 when absent). See `DecodedPhoto.source.orientation` for what was applied. */
  orientation: Orientation;
  /** The photo records where it was taken (GPS latitude/longitude). */
  hasGps: boolean;
}

/** Everything export needs to carry over, plus the summary the UI shows. */
export interface PhotoMetadata {
  summary: ExifSummary;
  /** Raw EXIF: a TIFF structure ("II*\0…"/"MM\0*…"), no "Exif\0\0" prefix. Kept byte for byte. */
  exif: Buffer | null;
  /** ICC profile of the raster's pixel values (the source's own, or sRGB after a conversion). */
  icc: Buffer | null;
  /** XMP packet (XML), as stored. */
  xmp: Buffer | null;
  /** Pixels per inch, when the source records a resolution. */
  density: number | null;
}

const EXIFR_OPTIONS = {
  tiff: true,
  exif: true,
  gps: true,
  ifd1: false,
  interop: false,
  makerNote: false,
  userComment: false,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
  translateKeys: true,
  translateValues: false,
  reviveValues: false,
  sanitize: true,
  mergeOutput: true,
};

const str = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const t = v.replace(/\0+$/g, '').trim();
  return t.length > 0 ? t : undefined;
};
const num = (v: unknown): number | undefined => {
  const n = Array.isArray(v) ? v[0] : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
};

function exifDate(value: unknown, offset: unknown): string | undefined {
  const s = str(value);
  const m = s?.match(/^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/);
  if (!m || m[1] === '0000') return undefined;
  const off = str(offset);
  const tz = off && /^[+-]\d{2}:\d{2}$/.test(off) ? off : '';
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${tz}`;
}

export function asOrientation(v: unknown): Orientation {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 8 ? (v as Orientation) : 1;
}

/** The summary of an EXIF blob (an empty one when there is none or it cannot be read). */
export async function summarizeExif(exif: Uint8Array | null): Promise<ExifSummary> {
  if (!exif) return { orientation: 1, hasGps: false };
  let t: Record<string, unknown> | undefined;
  try {
    t = (await exifr.parse(Buffer.from(exif.buffer, exif.byteOffset, exif.byteLength), EXIFR_OPTIONS)) as
      | Record<string, unknown>
      | undefined;
  } catch {
    t = undefined;
  }
  if (!t) return { orientation: 1, hasGps: false };
  const summary: ExifSummary = {
    make: str(t.Make),
    model: str(t.Model),
    lens: str(t.LensModel) ?? str(t.Lens),
    exposureTime: num(t.ExposureTime),
    fNumber: num(t.FNumber),
    iso: num(t.ISO) ?? num(t.PhotographicSensitivity),
    focalLength: num(t.FocalLength),
    focalLength35mm: num(t.FocalLengthIn35mmFormat),
    dateTaken:
      exifDate(t.DateTimeOriginal, t.OffsetTimeOriginal) ?? exifDate(t.CreateDate, t.OffsetTimeDigitized) ?? exifDate(t.ModifyDate, t.OffsetTime),
    orientation: asOrientation(t.Orientation),
    hasGps: t.GPSLatitude !== undefined && t.GPSLongitude !== undefined,
  };
  for (const k of Object.keys(summary) as (keyof ExifSummary)[]) if (summary[k] === undefined) delete summary[k];
  return summary;
}

/**
 * The metadata of a source file from its header as sharp read it (EXIF, ICC, XMP, density), with
 * TIFF's EXIF gathered from the file's directories (libvips does not hand it over as a blob).
 */
export async function metadataFromHeader(path: string, format: SourceFormat, header: SharpMetadata): Promise<PhotoMetadata> {
  let exif = normalizeExif(header.exif);
  if (!exif && format === 'tiff') exif = exifFromTiffFile(path);
  const summary = await summarizeExif(exif);
  if (!exif && header.orientation) summary.orientation = asOrientation(header.orientation);
  const xmp = header.xmp && header.xmp.length > 0 ? Buffer.from(header.xmp) : null;
  const icc = header.icc && header.icc.length > 0 ? Buffer.from(header.icc) : null;
  const density = typeof header.density === 'number' && header.density > 0 ? header.density : null;
  return { summary, exif, icc, xmp, density };
}
