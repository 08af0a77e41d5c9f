/**
 * The MAP core's units of parallel work, as plain data that crosses to a worker thread: a tile to deconvolve, a
 * region's kernel to estimate, a region's ringing trial. One runner per thread, with that thread's FFT plans.
 */
import { estimateKernel, type KernelEstimateOptions } from './estimate-kernel.ts';
import { FftCache, loadMapWasm } from './fft2d.ts';
import { TileDeconvolver, type TileTask } from './deconvolve-tile.ts';
import type { Kernel } from './kernel.ts';
import type { Plane } from './plane.ts';
import { ringing, type Verdict } from './region-guard.ts';

export type KernelTask = Omit<KernelEstimateOptions, 'signal'>;

export type MapTask =
  | { kind: 'tile'; tile: TileTask }
  | { kind: 'kernel'; plane: Plane; options: KernelTask }
  | { kind: 'ringing'; plane: Plane; kernel: Kernel; lambda: number };

export interface MapTaskResults {
  tile: Float32Array[];
  kernel: Kernel;
  ringing: Verdict;
}

/** The buffers a task hands over instead of copying: a tile's planes, which are made for it (region planes are small). */
export function taskBuffers(task: MapTask): ArrayBuffer[] {
  return task.kind === 'tile' ? task.tile.planes.map((p) => p.buffer as ArrayBuffer) : [];
}

/**
 * Memory a thread's WebAssembly instance may keep between runs: more than an estimate or the editor's preview needs
 * (20 and ~120 MB), less than a 12 MP photo's tiles grow it to (~180 MB; 48 MP ~300 MB).
 */
export const KEPT_BYTES = 160 << 20;

export class MapTaskRunner {
  private readonly tiles = new TileDeconvolver();
  private ffts: Promise<FftCache> | null = null;

  /** `signal` cancels a kernel estimate between its iterations (where the task runs in the cancelling thread). */
  async run<K extends MapTask['kind']>(task: Extract<MapTask, { kind: K }>, signal?: AbortSignal): Promise<MapTaskResults[K]>;
  async run(task: MapTask, signal?: AbortSignal): Promise<MapTaskResults[MapTask['kind']]> {
    const ffts = await (this.ffts ??= loadMapWasm().then((m) => new FftCache(m)));
    switch (task.kind) {
      case 'tile':
        return this.tiles.run(ffts, task.tile);
      case 'kernel':
        return (await estimateKernel(ffts, task.plane, { ...task.options, signal })).kernel;
      case 'ringing':
        return ringing(ffts, task.plane, task.kernel, task.lambda);
    }
  }

  /** Bytes of WebAssembly memory this runner holds (0 before its first task). */
  async memoryBytes(): Promise<number> {
    const ffts = await this.ffts;
    return ffts ? ffts.mod.HEAPF32.buffer.byteLength : 0;
  }

  /**
   * Between runs, in the calling thread: lets a grown WebAssembly memory go (it cannot shrink; worker threads are
   * replaced instead, map-threads.ts); the next task starts a new instance. A task still running keeps the old one.
   */
  async release(): Promise<void> {
    if ((await this.memoryBytes()) > KEPT_BYTES) this.ffts = null;
  }

  close(): Promise<void> {
    return this.tiles.close();
  }
}
