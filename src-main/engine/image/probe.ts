import { open, readFile, stat } from 'node:fs/promises';
import { ImageError, decodeError, readError } from './errors.ts';
import { READABLE_FORMATS_TEXT, SNIFF_BYTES, SOURCE_FORMAT_NAMES, sniffFormat, type SourceFormat } from './formats.ts';
import { probeHeif } from './heic.ts';
import { checkImageSize, type SizeLimits } from './limits.ts';
import { sharp, type SharpMetadata } from './sharp-setup.ts';

/** What an input file is and how large, learnt from its first bytes and its header only. */
export interface ProbeResult {
  path: string;
  format: SourceFormat;
  fileSize: number;
  /** sharp's header read (null for a HEIF file whose header only libheif understands). */
  header: SharpMetadata | null;
  /** Size as stored (before orientation). */
  width: number;
  height: number;
  /** The whole file, for HEIF (libheif decodes from memory). */
  data?: Buffer;
}

async function readHead(path: string, size: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Check that `path` is a readable image of a supported kind within the size limits, without
 * decoding its pixels. Throws an ImageError (one line naming the file) otherwise.
 */
export async function probeImage(path: string, limits: Required<SizeLimits>): Promise<ProbeResult> {
  let size: number;
  let head: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ImageError('not-an-image', path, 'this is a folder, not an image file');
    if (!st.isFile()) throw new ImageError('not-an-image', path, 'this is not a regular file');
    size = st.size;
    if (size === 0) throw new ImageError('empty', path, 'the file is empty (0 bytes)');
    head = await readHead(path, size);
  } catch (e) {
    throw readError(path, e);
  }
  if (head.length === 0) throw new ImageError('empty', path, 'the file is empty (0 bytes)');

  const sniffed = sniffFormat(head);
  if (sniffed.kind === 'unknown') {
    const what = sniffed.looksLikeText ? 'it contains text' : 'its content is no known image format';
    throw new ImageError('not-an-image', path, `not an image (${what}; expected ${READABLE_FORMATS_TEXT})`);
  }
  if (sniffed.kind === 'unsupported') {
    throw new ImageError('unsupported', path, `${sniffed.name} files are not supported (use ${READABLE_FORMATS_TEXT})`);
  }
  const format = sniffed.format;
  const formatName = SOURCE_FORMAT_NAMES[format];
  if (sniffed.pngSize && (sniffed.pngSize.width === 0 || sniffed.pngSize.height === 0)) {
    checkImageSize(path, sniffed.pngSize.width, sniffed.pngSize.height, limits);
  }

  if (format === 'heif') {
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (e) {
      throw readError(path, e);
    }
    let header: SharpMetadata | null = null;
    try {
      header = await sharp(data, { failOn: 'none' }).metadata();
    } catch {
      header = null; // libheif (below, and when decoding) has the last word on HEIF files
    }
    if (!header?.width || !header.height) {
      const dims = probeHeif(path, data);
      checkImageSize(path, dims.width, dims.height, limits);
      return { path, format, fileSize: size, header, width: dims.width, height: dims.height, data };
    }
    checkImageSize(path, header.width, header.height, limits);
    return { path, format, fileSize: size, header, width: header.width, height: header.height, data };
  }

  let header: SharpMetadata;
  try {
    // Header only: no pixel limit here, so that our own check below can name the limit in its message.
    header = await sharp(path, { failOn: 'none', limitInputPixels: false }).metadata();
  } catch (e) {
    throw decodeError(path, formatName, e);
  }
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  checkImageSize(path, width, height, limits);
  return { path, format, fileSize: size, header, width, height };
}
