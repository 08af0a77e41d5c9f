import { ImageError, formatPixels } from './errors.ts';

/**
 * Size limits checked from the header, before any pixel is decoded.
 *
 * 120 megapixels by default: every current camera up to 102 MP medium format (Fujifilm GFX100,
 * Hasselblad X2D) decodes, a 200 MP phone photo or a stitched panorama is refused. At 8 bits the
 * raster costs 3 bytes a pixel (120 MP = 360 MB, 16-bit 720 MB), plus the decoder's own buffer.
 */
export const DEFAULT_MAX_PIXELS = 120_000_000;

/**
 * Below 16 pixels a side there is nothing to deblur (the networks see 16-pixel neighbourhoods and
 * a blur kernel is often longer than that): such images are refused rather than passed through.
 */
export const DEFAULT_MIN_SIDE = 16;

export interface SizeLimits {
  /** Largest width × height accepted. */
  maxPixels?: number;
  /** Smallest width and height accepted. */
  minSide?: number;
}

export function resolveLimits(limits: SizeLimits = {}): Required<SizeLimits> {
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  const minSide = limits.minSide ?? DEFAULT_MIN_SIDE;
  if (!(Number.isInteger(maxPixels) && maxPixels > 0)) throw new RangeError(`maxPixels must be a positive integer, got ${maxPixels}`);
  if (!(Number.isInteger(minSide) && minSide >= 1)) throw new RangeError(`minSide must be an integer ≥ 1, got ${minSide}`);
  return { maxPixels, minSide };
}

/** Throws the ImageError a user should see when an image of this size cannot be opened. */
export function checkImageSize(path: string, width: number, height: number, limits: Required<SizeLimits>): void {
  if (!(width > 0 && height > 0)) {
    throw new ImageError('too-small', path, `the image has no pixels (its header says ${width}×${height})`);
  }
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new ImageError(
      'too-large',
      path,
      `the image is too large (${width}×${height} = ${formatPixels(pixels)}; the limit is ${formatPixels(limits.maxPixels)})`,
    );
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new ImageError(
      'too-small',
      path,
      `the image is too small to deblur (${width}×${height} pixels; the minimum is ${limits.minSide}×${limits.minSide})`,
    );
  }
}
