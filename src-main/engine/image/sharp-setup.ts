import sharpModule from 'sharp';

/**
 * sharp as the image pipeline uses it. libvips' operation cache is turned off: it keys file loads
 * by path, so a photo exported over an existing file and opened again could come back stale, and
 * the cache holds memory the app needs for large rasters.
 */
sharpModule.cache(false);

export const sharp = sharpModule;
export type { Metadata as SharpMetadata, Sharp } from 'sharp';
