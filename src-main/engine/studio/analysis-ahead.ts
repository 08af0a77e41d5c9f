/**
 * The editor's analysis ahead: the photo just opened is analysed in the background on the MAP core's warm threads,
 * its blur estimated, then its display-sized preview deblurred, so that Deblur shows a result the moment it is
 * clicked and the full resolution follows. One photo is analysed ahead at a time: the latest opened.
 */
import type { Raster } from '../image/raster.ts';
import type { BlurEstimate } from '../map/blur-estimate.ts';
import { deconvolves, mapDeblurRaster, previewOptions, type MapDeblurResult } from '../map/deblur-photo.ts';
import { withMapThreads, type MapThreads } from '../map/map-threads.ts';
import { estimatePhotoBlur } from '../map/photo-blur.ts';
import { downscaleRaster } from './previews.ts';

interface Ahead {
  raster: Raster;
  controller: AbortController;
  estimate: Promise<BlurEstimate | null>;
  preview: Promise<MapDeblurResult | null>;
  /** The estimate's progress (0…1), and who waits for it. */
  fraction: number;
  listeners: Set<(fraction: number) => void>;
}

export class AnalysisAhead {
  private ahead: Ahead | null = null;

  /** `pool`: the MAP core's warm threads as Settings choose them (null: one thread). */
  constructor(private readonly pool: () => Promise<MapThreads | null>) {}

  /**
   * Starts analysing a photo in the background, stopping the one before: its blur estimate (null if stopped or
   * failed), then its preview at `previewSide` px (null where there is none: a photo no larger, or nothing to undo).
   * Opening photos one after another stops each estimate; a preview once started finishes (about a second).
   */
  start(raster: Raster, previewSide: number): Ahead['estimate'] {
    this.ahead?.controller.abort();
    const controller = new AbortController();
    const ahead: Ahead = { raster, controller, estimate: Promise.resolve(null), preview: Promise.resolve(null), fraction: 0, listeners: new Set() };
    const onProgress = (f: number) => {
      ahead.fraction = f;
      for (const l of ahead.listeners) l(f);
    };
    // On the warm threads without their hard cancel (which would close them under other runs): a stop drops the
    // estimate's queued tasks and ends it at its next step.
    ahead.estimate = this.pool()
      .then((pool) => (pool ? withMapThreads(pool, undefined, (regions) => estimatePhotoBlur(raster, { signal: controller.signal, onProgress, regions })) : estimatePhotoBlur(raster, { signal: controller.signal, onProgress, threads: 1 })))
      .catch(() => null);
    ahead.preview = ahead.estimate
      .then(async (estimate) => {
        if (!estimate || controller.signal.aborted || !deconvolves(estimate)) return null;
        return deblurPreview(raster, estimate, previewSide, await this.pool());
      })
      .catch(() => null);
    this.ahead = ahead;
    return ahead.estimate;
  }

  /**
   * This photo's estimate from the analysis ahead, waited for with its progress; null if none was made for it (or
   * it stopped). A cancel stops the waiting, not the analysis, which the next run can still use.
   */
  async estimate(raster: Raster, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<BlurEstimate | null> {
    const ahead = this.ahead;
    if (!ahead || ahead.raster !== raster) return null;
    onProgress(ahead.fraction);
    ahead.listeners.add(onProgress);
    try {
      return await untilAborted(ahead.estimate, signal);
    } finally {
      ahead.listeners.delete(onProgress);
    }
  }

  /** This photo's preview from the analysis ahead, waited for; null if none was made for it. */
  async preview(raster: Raster, signal: AbortSignal): Promise<MapDeblurResult | null> {
    const ahead = this.ahead;
    if (!ahead || ahead.raster !== raster) return null;
    return untilAborted(ahead.preview, signal);
  }

  /** Stops the analysis ahead (of this photo only, if one is given). */
  stop(raster?: Raster): void {
    if (this.ahead && (!raster || this.ahead.raster === raster)) {
      this.ahead.controller.abort();
      this.ahead = null;
    }
  }
}

/**
 * The display-sized preview of a deblur with this estimate, on these threads (null: one thread); null for a photo no
 * larger than `previewSide`.
 */
export async function deblurPreview(raster: Raster, estimate: BlurEstimate, previewSide: number, pool: MapThreads | null, signal?: AbortSignal): Promise<MapDeblurResult | null> {
  const small = await downscaleRaster(raster, previewSide);
  if (small.factor <= 1) return null;
  return mapDeblurRaster(small.raster, { ...previewOptions(small.raster, estimate, pool?.threads ?? 1), signal, ...(pool ? { pool } : { threads: 1 }) });
}

/** `p`, or a rejection with the signal's reason as soon as it aborts. */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort = () => {};
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
