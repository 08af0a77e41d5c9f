import type { EmbedMetadata, EmbedWarnings } from './types.ts';

/**
 * Put ICC (ICCP), EXIF and XMP chunks into a WebP file, turning a simple (VP8/VP8L) file into the
 * extended format (VP8X) that can hold them. WebP has no resolution field; DPI travels in EXIF.
 */

interface Chunk {
  id: string;
  data: Buffer;
}

function chunk(c: Chunk): Buffer {
  const pad = c.data.length % 2;
  const out = Buffer.alloc(8 + c.data.length + pad);
  out.write(c.id, 0, 'latin1');
  out.writeUInt32LE(c.data.length, 4);
  c.data.copy(out, 8);
  return out;
}

function vp8lHasAlpha(data: Buffer): boolean {
  // VP8L header: 0x2f, then 14 bits width-1, 14 bits height-1, 1 bit alpha_is_used
  return data.length >= 5 && data[0] === 0x2f && ((data[4] >> 4) & 1) === 1;
}

export function embedWebp(webp: Buffer, meta: EmbedMetadata, _warnings: EmbedWarnings, size: { width: number; height: number }): Buffer {
  if (webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') {
    throw new Error('encoder output is not a WebP');
  }
  const chunks: Chunk[] = [];
  let pos = 12;
  while (pos + 8 <= webp.length) {
    const id = webp.toString('latin1', pos, pos + 4);
    const len = webp.readUInt32LE(pos + 4);
    chunks.push({ id, data: webp.subarray(pos + 8, pos + 8 + len) });
    pos += 8 + len + (len % 2);
  }
  const image = chunks.filter((c) => !['VP8X', 'ICCP', 'EXIF', 'XMP '].includes(c.id));
  const old = chunks.find((c) => c.id === 'VP8X');
  let flags = old ? old.data[0] & ~(0x20 | 0x08 | 0x04) : 0;
  if (!old && (image.some((c) => c.id === 'ALPH') || image.some((c) => c.id === 'VP8L' && vp8lHasAlpha(c.data)))) flags |= 0x10;
  if (meta.icc) flags |= 0x20;
  if (meta.exif) flags |= 0x08;
  if (meta.xmp) flags |= 0x04;
  const vp8x = Buffer.alloc(10);
  vp8x[0] = flags;
  vp8x.writeUIntLE(size.width - 1, 4, 3);
  vp8x.writeUIntLE(size.height - 1, 7, 3);
  const out: Chunk[] = [{ id: 'VP8X', data: vp8x }];
  if (meta.icc) out.push({ id: 'ICCP', data: Buffer.from(meta.icc) });
  out.push(...image);
  if (meta.exif) out.push({ id: 'EXIF', data: Buffer.from(meta.exif) });
  if (meta.xmp) out.push({ id: 'XMP ', data: Buffer.from(meta.xmp) });
  const body = Buffer.concat(out.map(chunk));
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}
