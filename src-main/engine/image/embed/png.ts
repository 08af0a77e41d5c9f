import { deflateSync } from 'node:zlib';
import type { EmbedMetadata, EmbedWarnings } from './types.ts';

/**
 * Put ICC (iCCP), resolution (pHYs), EXIF (eXIf) and XMP (iTXt "XML:com.adobe.xmp") into a PNG,
 * right after IHDR, replacing any the encoder wrote. Pixel data is not touched.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const REPLACED = new Set(['iCCP', 'sRGB', 'gAMA', 'cHRM', 'pHYs', 'eXIf', 'zXIf']);

let crcTable: Uint32Array | undefined;
/** The CRC-32 PNG chunks carry (over type and data). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function isXmpChunk(type: string, data: Buffer): boolean {
  return type === 'iTXt' && data.subarray(0, 18).toString('latin1') === 'XML:com.adobe.xmp\0';
}

export function embedPng(png: Buffer, meta: EmbedMetadata, _warnings: EmbedWarnings): Buffer {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('encoder output is not a PNG');
  const parts: Buffer[] = [SIGNATURE];
  let pos = 8;
  let inserted = false;
  while (pos + 12 <= png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + len;
    const data = png.subarray(pos + 8, pos + 8 + len);
    const keep = !REPLACED.has(type) && !isXmpChunk(type, data);
    if (keep) parts.push(png.subarray(pos, end));
    if (type === 'IHDR' && !inserted) {
      inserted = true;
      if (meta.icc) {
        const header = Buffer.from('ICC profile\0\0', 'latin1'); // name, NUL, compression method 0
        parts.push(pngChunk('iCCP', Buffer.concat([header, deflateSync(meta.icc)])));
      }
      if (meta.density) {
        const ppm = Math.round(meta.density / 0.0254);
        const phys = Buffer.alloc(9);
        phys.writeUInt32BE(ppm, 0);
        phys.writeUInt32BE(ppm, 4);
        phys[8] = 1; // unit: metre
        parts.push(pngChunk('pHYs', phys));
      }
      if (meta.exif) parts.push(pngChunk('eXIf', meta.exif));
      if (meta.xmp) {
        const header = Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'); // keyword, NUL, flag 0, method 0, lang "", translated ""
        parts.push(pngChunk('iTXt', Buffer.concat([header, meta.xmp])));
      }
    }
    pos = end;
  }
  return Buffer.concat(parts);
}
