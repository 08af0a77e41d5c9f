/**
 * The image pipeline's public API: decode a photo file into a display-oriented Raster with its
 * metadata, export a Raster with that metadata, and the one error type both throw.
 */
export { decodeImage, readPhotoMetadata, type DecodeOptions, type DecodedPhoto, type SourceInfo } from './decode.ts';
export { exportImage, type ExportOptions, type ExportResult } from './encode.ts';
export { atomicWrite, checkWritableTarget, type AtomicWriteOptions, type Producer } from './atomic-write.ts';
export { ImageError, isImageError, type ImageErrorCode } from './errors.ts';
export { summarizeExif, type ExifSummary, type Orientation, type PhotoMetadata } from './metadata.ts';
export { DEFAULT_MAX_PIXELS, DEFAULT_MIN_SIDE, type SizeLimits } from './limits.ts';
export { sniffFormat, type ExportFormat, type SourceFormat } from './formats.ts';
export { iccDescription } from './icc-profiles.ts';
export {
  createRaster,
  fromFloatRGB,
  maxValue,
  readFloatTile,
  toFloatRGB,
  type Depth,
  type PixelArray,
  type Raster,
} from './raster.ts';
