/** A photo's blur estimate with this thread's FFT plans: what the motion view, blur scores and triage share. */
import type { Raster } from '../image/raster.ts';
import { estimateBlur, type BlurEstimate, type EstimateOptions } from './blur-estimate.ts';
import { FftCache, pffft } from './fft2d.ts';
import { withMapThreads } from './map-threads.ts';

let cache: Promise<FftCache> | null = null;

export interface PhotoEstimateOptions extends EstimateOptions {
  /** MAP core threads for the regions (0: all cores); absent: this thread only (no threads to start). */
  threads?: number;
}

export async function estimatePhotoBlur(raster: Raster, opts: PhotoEstimateOptions = {}): Promise<BlurEstimate> {
  cache ??= pffft().then((m) => new FftCache(m));
  const ffts = await cache;
  if (opts.threads === undefined || opts.threads === 1 || opts.regions) return estimateBlur(ffts, raster, opts);
  return withMapThreads(opts.threads, opts.signal, (regions) => estimateBlur(ffts, raster, { ...opts, regions }));
}
