/**
 * The editor's MAP core: threads kept warm between runs (a run then starts at once, its code already compiled), and
 * the blur of the photo just opened estimated in the background, so that Deblur can show its preview about a second
 * after the click and the motion view opens at once. One photo is estimated ahead at a time: the latest opened.
 */
import type { Raster } from '../image/raster.ts';
import type { BlurEstimate } from '../map/blur-estimate.ts';
import { MapThreads } from '../map/map-threads.ts';
import { estimatePhotoBlur } from '../map/photo-blur.ts';

interface Ahead {
  raster: Raster;
  controller: AbortController;
  done: Promise<BlurEstimate | null>;
  fraction: number;
  listeners: Set<(fraction: number) => void>;
}

export class WarmMapCore {
  private pool: MapThreads | null = null;
  private poolThreads = -1;
  private ahead: Ahead | null = null;

  /** `threads`: the MAP core threads Settings choose (0: all cores). */
  constructor(private readonly threads: () => Promise<number>) {}

  /**
   * The warm threads: started on first use, again after a cancel closed them or Settings changed their number;
   * null where tasks would run in the calling thread anyway (one thread), so runs start their own.
   */
  async pooled(): Promise<MapThreads | null> {
    const n = await this.threads();
    if (this.pool && (this.pool.closed || this.poolThreads !== n)) {
      void this.pool.close();
      this.pool = null;
    }
    if (!this.pool) {
      const pool = new MapThreads(n);
      if (pool.runsHere) {
        await pool.close();
        return null;
      }
      this.pool = pool;
      this.poolThreads = n;
    }
    return this.pool;
  }

  /** Starts estimating a photo's blur in the background, stopping the one before; null if stopped or failed. */
  estimateAhead(raster: Raster): Promise<BlurEstimate | null> {
    this.ahead?.controller.abort();
    const controller = new AbortController();
    const ahead: Ahead = { raster, controller, done: Promise.resolve(null), fraction: 0, listeners: new Set() };
    const onProgress = (f: number) => {
      ahead.fraction = f;
      for (const l of ahead.listeners) l(f);
    };
    ahead.done = this.pooled()
      .then((pool) => estimatePhotoBlur(raster, { signal: controller.signal, onProgress, ...(pool ? { regions: pool } : { threads: 1 }) }))
      .catch(() => null)
      .finally(() => {
        if (this.ahead === ahead) this.ahead = null;
      });
    this.ahead = ahead;
    return ahead.done;
  }

  /**
   * The background estimate of this photo, if one is running: waited for with its progress, or null (none running,
   * or it stopped). A cancel stops the waiting, not the estimate, which the next run can still use.
   */
  async awaitAhead(raster: Raster, signal: AbortSignal, onProgress: (fraction: number) => void): Promise<BlurEstimate | null> {
    const ahead = this.ahead;
    if (!ahead || ahead.raster !== raster) return null;
    onProgress(ahead.fraction);
    ahead.listeners.add(onProgress);
    let onAbort = () => {};
    try {
      return await Promise.race([
        ahead.done,
        new Promise<never>((_, reject) => {
          onAbort = () => reject(signal.reason);
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      ahead.listeners.delete(onProgress);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Stops the background estimate (of this photo only, if one is given). */
  stopAhead(raster?: Raster): void {
    if (this.ahead && (!raster || this.ahead.raster === raster)) this.ahead.controller.abort();
  }

  async close(): Promise<void> {
    this.stopAhead();
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
