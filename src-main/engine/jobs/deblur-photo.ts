import { decodeImage, exportImage, type ExportFormat, type ExportResult } from '../image/index.ts';
import { deblurRaster } from '../infer/deblur.ts';
import { estimateMotion } from '../infer/motion.ts';
import { openSession } from '../infer/session.ts';
import { applyStrength } from '../infer/strength.ts';
import type { ModelChoice } from './model-choice.ts';

export interface DeblurPhotoOptions {
  strength: number;
  /** Lower the strength where M finds no motion, so in-focus areas stay as shot. */
  protectSharp: boolean;
  format: ExportFormat;
  quality?: number;
  bitDepth?: 8 | 16;
  overwrite: boolean;
  tileSize?: number;
  signal?: AbortSignal;
  /** 0..1 of this photo. */
  onFraction?: (f: number) => void;
}

/** One photo from file to file: decode, G (and M when protecting sharp areas), strength, export with metadata. */
export async function deblurPhotoFile(models: ModelChoice, input: string, output: string, opts: DeblurPhotoOptions): Promise<ExportResult> {
  if (opts.protectSharp && !models.motion) throw new Error('"protect sharp areas" needs the motion model, which is not installed');
  const photo = await decodeImage(input);
  const g = await openSession(models.deblur, { role: 'deblur' });
  const share = opts.protectSharp ? 0.8 : 1;
  const result = await deblurRaster(g, photo.raster, {
    tileSize: opts.tileSize,
    signal: opts.signal,
    onProgress: (p) => opts.onFraction?.(share * p.fraction),
  });
  let protect = null;
  if (opts.protectSharp && models.motion) {
    const m = await openSession(models.motion, { role: 'motion' });
    const motion = await estimateMotion(m, photo.raster, {
      tileSize: opts.tileSize,
      signal: opts.signal,
      onProgress: (p) => opts.onFraction?.(share + (1 - share) * p.fraction),
    });
    protect = { field: motion.field };
  }
  opts.signal?.throwIfAborted();
  const out = applyStrength(photo.raster, result, opts.strength, { protect });
  return exportImage(out, photo.metadata, {
    path: output,
    format: opts.format,
    quality: opts.quality,
    bitDepth: opts.bitDepth,
    overwrite: opts.overwrite,
    sourcePath: input,
  });
}
