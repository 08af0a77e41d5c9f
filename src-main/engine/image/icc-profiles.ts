import { sharp } from './sharp-setup.ts';

/**
 * The ICC profiles a raster is tagged with when its source had none that fits: sRGB after a
 * CMYK/Lab conversion, Display P3 for HEIF photos that signal P3 with an nclx box instead of an ICC
 * profile. Taken from sharp's own built-in profiles (the ones libvips converts with).
 */
export type BuiltinProfile = 'srgb' | 'p3';

const cache = new Map<BuiltinProfile, Promise<Buffer>>();

export function builtinIcc(name: BuiltinProfile): Promise<Buffer> {
  let p = cache.get(name);
  if (!p) {
    p = (async () => {
      const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000000' } })
        .withIccProfile(name)
        .png()
        .toBuffer();
      const { icc } = await sharp(png).metadata();
      if (!icc) throw new Error(`sharp has no built-in ${name} profile`);
      return Buffer.from(icc);
    })();
    p.catch(() => cache.delete(name));
    cache.set(name, p);
  }
  return p;
}

/** The profile's description tag (e.g. "sRGB"), for tests and diagnostics; '' when unreadable. */
export function iccDescription(icc: Uint8Array): string {
  const b = Buffer.from(icc.buffer, icc.byteOffset, icc.byteLength);
  if (b.length < 132) return '';
  const count = b.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= b.length; i++) {
    const at = 132 + i * 12;
    if (b.toString('latin1', at, at + 4) !== 'desc') continue;
    const off = b.readUInt32BE(at + 4);
    const type = b.toString('latin1', off, off + 4);
    if (type === 'desc') {
      const len = b.readUInt32BE(off + 8);
      return b.toString('latin1', off + 12, off + 12 + len).replace(/\0+$/, '');
    }
    if (type === 'mluc') {
      const recLen = b.readUInt32BE(off + 12);
      if (recLen < 12) return '';
      const len = b.readUInt32BE(off + 20);
      const start = off + b.readUInt32BE(off + 24);
      const utf16 = b.subarray(start, start + len);
      let s = '';
      for (let k = 0; k + 1 < utf16.length; k += 2) s += String.fromCharCode(utf16.readUInt16BE(k));
      return s.replace(/\0+$/, '');
    }
  }
  return '';
}
