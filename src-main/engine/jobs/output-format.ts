import path from 'node:path';
import type { ExportFormat } from '../image/index.ts';

const EXTENSION: Record<ExportFormat, string> = { jpeg: '.jpg', png: '.png', tiff: '.tif', webp: '.webp' };
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jpeg', 'png', 'tiff', 'webp'];
/**
 * Appended to every output's name by default, in the CLI as in the app (its batch form and export name), so that a
 * result is never taken for an original nor written over one.
 */
export const OUTPUT_SUFFIX = '-deblurred';

export function outputExtension(format: ExportFormat): string {
  return EXTENSION[format];
}

/** The export format that matches a source file: its own where we can write it, JPEG for HEIC/AVIF. */
export function formatForSource(file: string): ExportFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.tif' || ext === '.tiff') return 'tiff';
  if (ext === '.webp') return 'webp';
  return 'jpeg';
}

export function isExportFormat(s: string): s is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(s);
}
