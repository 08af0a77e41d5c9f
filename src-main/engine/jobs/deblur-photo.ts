import { decodeImage, exportImage, type ExportFormat, type ExportResult } from '../image/index.ts';
import { deblurRaster, type DeblurResult } from '../infer/deblur.ts';
import type { SessionProvider } from '../infer/session-provider.ts';
import { applyStrength } from '../infer/strength.ts';
import { motionFromEstimate } from '../map/kernel-motion.ts';
import { estimatePhotoBlur } from '../map/photo-blur.ts';
import type { ModelChoice } from './model-choice.ts';
import { deblurWithMapCore, type LearnedParts } from './map-pipeline.ts';

export interface DeblurPhotoOptions {
  strength: number;
  /** Lower the strength where the estimated blur is small, so in-focus areas stay as shot. */
  protectSharp: boolean;
  format: ExportFormat;
  quality?: number;
  bitDepth?: 8 | 16;
  overwrite: boolean;
  /** Where the compute comes from: the network's session and the MAP core's threads, both as Settings choose. */
  sessions: SessionProvider;
  tileSize?: number;
  signal?: AbortSignal;
  /** 0..1 of this photo. */
  onFraction?: (f: number) => void;
}

/**
 * How a photo is deblurred: the MAP core with the learned parts chosen (the default everywhere), or a deblur
 * network the user asked for by name (the end-to-end networks lose to the MAP core on every eval set, so they are
 * no longer on the default path).
 */
export type DeblurPipeline = { kind: 'map'; parts: LearnedParts } | { kind: 'network'; models: ModelChoice };

/** One photo from file to file: decode, deblur, strength, export with metadata. */
export async function deblurPhotoFile(pipeline: DeblurPipeline, input: string, output: string, opts: DeblurPhotoOptions): Promise<ExportResult> {
  const photo = await decodeImage(input);
  let result: DeblurResult;
  let protect = null;
  if (pipeline.kind === 'map') {
    const pool = await opts.sessions.mapPool();
    const res = await deblurWithMapCore(photo.raster, {
      parts: pipeline.parts,
      openRefiner: (file) => opts.sessions.open(file, 'refine'),
      signal: opts.signal,
      ...(pool ? { pool } : { threads: 1 }),
      tileSize: opts.tileSize,
      onProgress: (p) => opts.onFraction?.(p.fraction),
    });
    result = res;
    if (opts.protectSharp) protect = { field: motionFromEstimate(res.estimate).field };
  } else {
    const g = await opts.sessions.open(pipeline.models.deblur, 'deblur');
    result = await deblurRaster(g, photo.raster, {
      tileSize: opts.tileSize,
      signal: opts.signal,
      onProgress: (p) => opts.onFraction?.(0.8 * p.fraction),
    });
    if (opts.protectSharp) protect = { field: motionFromEstimate(await estimatePhotoBlur(photo.raster, { signal: opts.signal })).field };
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
