/**
 * What a file is, told from its first bytes (never from its name): the formats the pipeline reads,
 * the image formats it knows but does not read, and text or other content that is no image at all.
 * HEIF and AVIF share one container (ISO-BMFF); the `ftyp` box's brands tell which codec is inside.
 */
export type SourceFormat = 'jpeg' | 'png' | 'tiff' | 'webp' | 'heif' | 'avif';
export type ExportFormat = 'jpeg' | 'png' | 'tiff' | 'webp';

export const SOURCE_FORMAT_NAMES: Record<SourceFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  tiff: 'TIFF',
  webp: 'WebP',
  heif: 'HEIC/HEIF',
  avif: 'AVIF',
};

export const READABLE_FORMATS_TEXT = 'JPEG, PNG, TIFF, WebP, HEIC/HEIF or AVIF';

export type Sniffed =
  | { kind: 'image'; format: SourceFormat; brands?: string[]; pngSize?: { width: number; height: number } }
  | { kind: 'unsupported'; name: string }
  | { kind: 'unknown'; looksLikeText: boolean };

/** How many leading bytes `sniffFormat` wants to see. */
export const SNIFF_BYTES = 512;

const HEVC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const GENERIC_HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

function ascii(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

function startsWith(b: Uint8Array, bytes: number[], at = 0): boolean {
  if (b.length < at + bytes.length) return false;
  return bytes.every((v, i) => b[at + i] === v);
}

/** The brands of an ISO-BMFF `ftyp` box at the start of the file (major first), or null. */
export function ftypBrands(head: Uint8Array): string[] | null {
  if (head.length < 16 || ascii(head, 4, 8) !== 'ftyp') return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = Math.min(view.getUint32(0), head.length);
  if (size < 16) return null;
  const brands = [ascii(head, 8, 12)];
  for (let p = 16; p + 4 <= size; p += 4) brands.push(ascii(head, p, p + 4));
  return brands;
}

/** HEIF (HEVC or another codec libheif reads) or AVIF (AV1), decided by the ftyp brands. */
export function classifyHeifBrands(brands: string[]): 'heif' | 'avif' | null {
  const [major] = brands;
  if (HEVC_BRANDS.has(major)) return 'heif';
  if (AVIF_BRANDS.has(major)) return 'avif';
  if (brands.some((b) => HEVC_BRANDS.has(b))) return 'heif';
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => GENERIC_HEIF_BRANDS.has(b))) return 'heif';
  return null;
}

function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  let printable = 0;
  for (const c of head) {
    if (c === 0) return false;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  return printable / head.length > 0.95;
}

export function sniffFormat(head: Uint8Array): Sniffed {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    const res: Sniffed = { kind: 'image', format: 'png' };
    if (head.length >= 24 && ascii(head, 12, 16) === 'IHDR') {
      const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
      res.pngSize = { width: view.getUint32(16), height: view.getUint32(20) };
    }
    return res;
  }
  if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { kind: 'image', format: 'tiff' };
  }
  if (startsWith(head, [0x49, 0x49, 0x2b, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { kind: 'image', format: 'tiff' }; // BigTIFF
  }
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return { kind: 'image', format: 'webp' };
  const brands = ftypBrands(head);
  if (brands) {
    const format = classifyHeifBrands(brands);
    if (format) return { kind: 'image', format, brands };
    return { kind: 'unsupported', name: `an ISO media file (brand "${brands[0].trim()}", e.g. a video)` };
  }
  if (ascii(head, 0, 4) === 'GIF8') return { kind: 'unsupported', name: 'GIF' };
  if (ascii(head, 0, 2) === 'BM' && head.length >= 26) return { kind: 'unsupported', name: 'BMP' };
  if (startsWith(head, [0xff, 0x0a]) || ascii(head, 4, 8) === 'JXL ') return { kind: 'unsupported', name: 'JPEG XL' };
  if (ascii(head, 4, 8) === 'jP  ' || startsWith(head, [0xff, 0x4f, 0xff, 0x51])) {
    return { kind: 'unsupported', name: 'JPEG 2000' };
  }
  if (ascii(head, 0, 4) === '8BPS') return { kind: 'unsupported', name: 'Photoshop (PSD)' };
  if (ascii(head, 0, 5) === '%PDF-') return { kind: 'unsupported', name: 'PDF' };
  return { kind: 'unknown', looksLikeText: looksLikeText(head) };
}
