import type { ExportFormat } from '../formats.ts';
import { embedJpeg } from './jpeg.ts';
import { embedPng } from './png.ts';
import { embedTiff } from './tiff.ts';
import type { EmbedMetadata, EmbedWarnings } from './types.ts';
import { embedWebp } from './webp.ts';

export type { EmbedMetadata, EmbedWarnings } from './types.ts';

/** Write `meta` into an encoded file of `format` (sharp's output), returning the new bytes. */
export function embedMetadata(
  format: ExportFormat,
  encoded: Buffer,
  meta: EmbedMetadata,
  size: { width: number; height: number },
  warnings: EmbedWarnings,
): Buffer {
  switch (format) {
    case 'jpeg':
      return embedJpeg(encoded, meta, warnings);
    case 'png':
      return embedPng(encoded, meta, warnings);
    case 'webp':
      return embedWebp(encoded, meta, warnings, size);
    case 'tiff':
      return embedTiff(encoded, meta, warnings);
  }
}
