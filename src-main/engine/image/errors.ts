import { basename, dirname } from 'node:path';

/**
 * Every failure of the image pipeline that a user can meet: a code a program can switch on and a
 * message that is one human line naming the file, e.g.
 * `photo.jpg: the file is truncated or corrupt (JPEG data ends early)`.
 */
export type ImageErrorCode =
  | 'not-found' // the input path does not exist
  | 'permission' // the input (or its folder) cannot be read
  | 'not-an-image' // the content is not an image at all (text, a folder, random bytes)
  | 'unsupported' // an image, but a kind this app does not read or write
  | 'empty' // a zero-byte file
  | 'truncated' // the data ends early or is damaged
  | 'too-small' // 0×0 or below the minimum size for deblurring
  | 'too-large' // above the pixel limit (or a format's own size limit on export)
  | 'exists' // the export target exists and overwriting was not asked for
  | 'same-as-source' // the export target is the source photo
  | 'not-writable' // the export folder cannot be written
  | 'invalid-argument' // a programming error in the caller (bad raster, bad option)
  | 'failed'; // anything else, with the library's own words

export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly code: ImageErrorCode;
  /** The file the message is about (input or output), as the caller gave it. */
  readonly path: string;

  constructor(code: ImageErrorCode, path: string, detail: string, options?: { cause?: unknown }) {
    super(`${displayName(path)}: ${detail}`, options);
    this.code = code;
    this.path = path;
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}

/** How a file is named in messages: its base name (the folder only where it matters). */
export function displayName(path: string): string {
  return basename(path) || path;
}

/** A number of pixels in words: "120 megapixels", "24.5 megapixels", "1,000 pixels". */
export function formatPixels(pixels: number): string {
  if (pixels >= 1_000_000) {
    const mp = pixels / 1_000_000;
    const text = Number.isInteger(mp) ? String(mp) : mp >= 10 ? mp.toFixed(0) : mp.toFixed(1);
    return `${text} megapixels`;
  }
  return `${pixels.toLocaleString('en-US')} pixels`;
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An error from reading an input path (open, stat, read) as an ImageError. */
export function readError(path: string, e: unknown): ImageError {
  if (e instanceof ImageError) return e;
  switch (errnoOf(e)) {
    case 'ENOENT':
      return new ImageError('not-found', path, 'the file does not exist', { cause: e });
    case 'ENOTDIR':
      return new ImageError('not-found', path, `the file does not exist (${displayName(dirname(path))} is not a folder)`, {
        cause: e,
      });
    case 'EACCES':
    case 'EPERM':
      return new ImageError('permission', path, 'permission denied: the file or its folder cannot be read', { cause: e });
    case 'EISDIR':
      return new ImageError('not-an-image', path, 'this is a folder, not an image file', { cause: e });
    case 'ELOOP':
      return new ImageError('not-found', path, 'the path is a link that loops back on itself', { cause: e });
    case 'EIO':
      return new ImageError('failed', path, 'the disk reported a read error', { cause: e });
    default:
      return new ImageError('failed', path, `cannot read the file (${messageOf(e)})`, { cause: e });
  }
}

/** Why a write into a folder failed, in words, for the errno codes a user can act on; undefined for the others. */
export function writeFailureReason(e: unknown): string | undefined {
  switch (errnoOf(e)) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'part of that path is a file, not a folder';
    case 'ENOENT':
      return 'the folder does not exist';
    case 'EROFS':
      return 'the disk is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full';
    case 'EISDIR':
      return 'a folder has that name';
    default:
      return undefined;
  }
}

/** An error from writing into an output folder as an ImageError ('not-writable' with the reason). */
export function writeError(path: string, e: unknown): ImageError {
  if (e instanceof ImageError) return e;
  const folder = dirname(path);
  const reason = writeFailureReason(e);
  if (reason === 'a folder has that name') {
    return new ImageError('not-writable', path, 'cannot write the file: a folder has that name', { cause: e });
  }
  if (reason) return new ImageError('not-writable', path, `cannot write to the folder ${folder} (${reason})`, { cause: e });
  return new ImageError('failed', path, `writing the file failed (${messageOf(e)})`, { cause: e });
}

/** A decoder's (sharp/libvips or libheif) failure on `path` as an ImageError with a readable reason. */
export function decodeError(path: string, formatName: string, e: unknown): ImageError {
  if (e instanceof ImageError) return e;
  if (errnoOf(e)) return readError(path, e);
  const raw = messageOf(e);
  const detail = raw
    .replace(/^Input (file|buffer) has corrupt header:\s*/i, '')
    .replace(/^(Vips\w+|\w+load(_\w+)?|heif|tiff2vips|webp2vips):\s*/i, '')
    .split('\n')[0]
    .trim();
  if (/Input file is missing/i.test(raw)) return new ImageError('not-found', path, 'the file does not exist', { cause: e });
  if (/exceeds pixel limit/i.test(raw)) {
    return new ImageError('too-large', path, 'the image is larger than the pixel limit', { cause: e });
  }
  if (/unsupported image format/i.test(raw)) {
    return new ImageError('not-an-image', path, `not an image this app can read (expected ${formatName} data)`, { cause: e });
  }
  if (/invalid image (width|height)|image (width|height) (is )?zero|zero (width|height)|bad (image )?dimensions|invalid image size/i.test(raw)) {
    return new ImageError('too-small', path, 'the image has no pixels (its header gives a size of 0)', { cause: e });
  }
  if (/premature end|end of (stream|file|data)|truncat|unexpected end|ends early|not enough data|insufficient (input )?data|short read|read error|EOF/i.test(raw)) {
    return new ImageError('truncated', path, `the file is truncated or corrupt (${formatName} data ends early)`, { cause: e });
  }
  if (/compression format has not been built in|no decoder|unsupported (codec|compression|bit depth|feature)/i.test(raw)) {
    return new ImageError('unsupported', path, `this kind of ${formatName} file is not supported (${detail})`, { cause: e });
  }
  if (/corrupt|invalid|damaged|bad |crc|checksum|huffman|marker|not a |error/i.test(raw)) {
    return new ImageError('truncated', path, `the file is truncated or corrupt (${formatName} data: ${detail})`, { cause: e });
  }
  return new ImageError('failed', path, `cannot decode the ${formatName} image (${detail})`, { cause: e });
}
