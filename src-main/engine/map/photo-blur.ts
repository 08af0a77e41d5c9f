/** A photo's blur estimate with this thread's FFT plans: what the motion view, blur scores and triage share. */
import type { Raster } from '../image/raster.ts';
import { estimateBlur, type BlurEstimate, type EstimateOptions } from './blur-estimate.ts';
import { FftCache, pffft } from './fft2d.ts';

let cache: Promise<FftCache> | null = null;

export async function estimatePhotoBlur(raster: Raster, opts: EstimateOptions = {}): Promise<BlurEstimate> {
  cache ??= pffft().then((m) => new FftCache(m));
  return estimateBlur(await cache, raster, opts);
}
