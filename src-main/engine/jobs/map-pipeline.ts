/**
 * The MAP core with its learned parts: the learned image prior inside the deconvolution (models/denoiser.onnx),
 * then the refiner G reading the MAP result beside the photo (models/refiner.onnx). Either part may be absent.
 * The refiner runs only where the MAP core undid a blur of a few pixels or more, so a photo the guard leaves alone
 * comes back as it was.
 */
import { createRaster, type Raster } from '../image/raster.ts';
import { deblurRaster } from '../infer/deblur.ts';
import type { ModelSession } from '../infer/session.ts';
import type { BlurEstimate } from '../map/blur-estimate.ts';
import { mapDeblurRaster, type MapDeblurResult } from '../map/deblur-photo.ts';
import type { MapThreads } from '../map/map-threads.ts';
import { kernelMotion } from '../map/kernel.ts';

export interface LearnedParts {
  /** The learned prior's denoiser (absent: the hand-made hyper-Laplacian prior). */
  denoiser?: string;
  /** The refiner of the MAP result (absent: the MAP result as it is). */
  refiner?: string;
  /** The personal model whose refiner `refiner` is (absent: the shipped one). */
  refinerId?: string;
}

export interface MapPipelineOptions {
  parts: LearnedParts;
  /** Opens the refiner's session (role 'refine') with the compute Settings choose. */
  openRefiner: (file: string) => Promise<ModelSession>;
  threads?: number;
  tileSize?: number;
  estimate?: BlurEstimate;
  /** Running MAP core threads (the session provider keeps them warm between runs); absent: `threads` new ones. */
  pool?: MapThreads;
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; fraction: number; etaMs: number | null }) => void;
}

/** Share of the progress bar the refiner takes when it runs (its tiles cost about a quarter of the MAP core's). */
const REFINE_SHARE = 0.2;
/**
 * The refiner runs where the MAP core undid a blur of at least this half-extent (px, its largest region kernel):
 * below it the MAP result was as good without the refiner on every eval set (models/MODEL_CARD.md).
 */
export const REFINE_MIN_BLUR_PX = 5;

/** The largest half-extent among the regions the MAP core deconvolved (0 when it left the photo as shot). */
function largestBlurUndone(e: BlurEstimate): number {
  return Math.max(0, ...e.regions.filter((r) => r.confidence > 0).map((r) => kernelMotion(r.kernel).halfExtent));
}

export async function deblurWithMapCore(raster: Raster, opts: MapPipelineOptions): Promise<MapDeblurResult> {
  const { parts } = opts;
  const mapShare = parts.refiner ? 1 - REFINE_SHARE : 1;
  const map = await mapDeblurRaster(raster, {
    signal: opts.signal,
    threads: opts.threads,
    tileSize: opts.tileSize,
    estimate: opts.estimate,
    pool: opts.pool,
    learnedPrior: parts.denoiser ? { model: parts.denoiser } : undefined,
    onProgress: (p) => opts.onProgress?.({ ...p, fraction: mapShare * p.fraction }),
  });
  if (!parts.refiner || largestBlurUndone(map.estimate) < REFINE_MIN_BLUR_PX) return map;
  const session = await opts.openRefiner(parts.refiner);
  const guide = createRaster(raster.width, raster.height, 16);
  guide.rgb.set(map.data);
  const refined = await deblurRaster(session, raster, {
    guide,
    tileSize: opts.tileSize,
    signal: opts.signal,
    onProgress: (p) => opts.onProgress?.({ stage: 'refining', fraction: mapShare + REFINE_SHARE * p.fraction, etaMs: p.etaMs }),
  });
  return { ...refined, estimate: map.estimate, seconds: map.seconds + refined.seconds };
}
