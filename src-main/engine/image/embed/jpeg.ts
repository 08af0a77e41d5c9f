import type { EmbedMetadata, EmbedWarnings } from './types.ts';

/**
 * Put EXIF (APP1 "Exif"), XMP (APP1 Adobe namespace) and ICC (APP2 "ICC_PROFILE", split into
 * chunks) into a JPEG right after its JFIF header, replacing any the encoder wrote, and set the
 * JFIF density. The entropy-coded data is copied untouched.
 */

const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const XMP_ID = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const ICC_ID = Buffer.from('ICC_PROFILE\0', 'latin1');
const MAX_SEGMENT_DATA = 65533; // segment length field (65535) minus its own two bytes
const ICC_CHUNK = MAX_SEGMENT_DATA - ICC_ID.length - 2;

function segment(marker: number, ...payload: Uint8Array[]): Buffer {
  const len = payload.reduce((n, p) => n + p.length, 0) + 2;
  const head = Buffer.from([0xff, marker, len >> 8, len & 0xff]);
  return Buffer.concat([head, ...payload]);
}

function jfif(density: number): Buffer {
  const d = Math.max(1, Math.min(65535, Math.round(density)));
  return segment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 1, d >> 8, d & 0xff, d >> 8, d & 0xff, 0, 0]));
}

export function embedJpeg(jpeg: Buffer, meta: EmbedMetadata, warnings: EmbedWarnings): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('encoder output is not a JPEG');
  // walk the header segments up to the first one that is not an APPn/COM
  const kept: Buffer[] = [];
  let jfifSegment: Buffer | null = null;
  let pos = 2;
  while (pos + 4 <= jpeg.length && jpeg[pos] === 0xff) {
    const marker = jpeg[pos + 1];
    const isApp = marker >= 0xe0 && marker <= 0xef;
    if (!isApp && marker !== 0xfe) break;
    const len = jpeg.readUInt16BE(pos + 2);
    const seg = jpeg.subarray(pos, pos + 2 + len);
    const body = seg.subarray(4);
    pos += 2 + len;
    if (marker === 0xe0 && body.subarray(0, 5).toString('latin1') === 'JFIF\0' && !jfifSegment) {
      jfifSegment = Buffer.from(seg);
      if (meta.density && jfifSegment.length >= 18) {
        const d = Math.max(1, Math.min(65535, Math.round(meta.density)));
        jfifSegment[4 + 7] = 1; // units: dots per inch
        jfifSegment.writeUInt16BE(d, 4 + 8);
        jfifSegment.writeUInt16BE(d, 4 + 10);
      }
      continue;
    }
    const replaced =
      (marker === 0xe1 && (body.subarray(0, 6).equals(EXIF_ID) || body.subarray(0, XMP_ID.length).equals(XMP_ID))) ||
      (marker === 0xe2 && body.subarray(0, ICC_ID.length).equals(ICC_ID));
    if (!replaced) kept.push(seg);
  }
  if (!jfifSegment && meta.density) jfifSegment = jfif(meta.density);

  const added: Buffer[] = [];
  if (meta.exif) {
    if (meta.exif.length + EXIF_ID.length <= MAX_SEGMENT_DATA) added.push(segment(0xe1, EXIF_ID, meta.exif));
    else warnings.push(`EXIF left out: ${meta.exif.length} bytes is more than a JPEG segment holds`);
  }
  if (meta.xmp) {
    if (meta.xmp.length + XMP_ID.length <= MAX_SEGMENT_DATA) added.push(segment(0xe1, XMP_ID, meta.xmp));
    else warnings.push(`XMP left out: ${meta.xmp.length} bytes is more than a JPEG segment holds (extended XMP is not written)`);
  }
  if (meta.icc) {
    const n = Math.ceil(meta.icc.length / ICC_CHUNK);
    if (n <= 255) {
      for (let i = 0; i < n; i++) {
        const part = meta.icc.subarray(i * ICC_CHUNK, (i + 1) * ICC_CHUNK);
        added.push(segment(0xe2, ICC_ID, Buffer.from([i + 1, n]), part));
      }
    } else warnings.push('ICC profile left out: too large for JPEG');
  }
  // JFIF (when present) stays first, EXIF follows it
  const first = jfifSegment ? [jfifSegment] : [];
  return Buffer.concat([jpeg.subarray(0, 2), ...first, ...added, ...kept, jpeg.subarray(pos)]);
}
