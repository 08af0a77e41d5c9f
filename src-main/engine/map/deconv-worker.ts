/** A deconvolution thread: tiles in, deconvolved tiles out (see deconv-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { FftCache, pffft } from './fft2d.ts';
import { TileDeconvolver, type TileTask } from './deconvolve-tile.ts';

const tiles = new TileDeconvolver(pffft().then((m) => new FftCache(m)));

parentPort!.on('message', async (task: TileTask & { id: number }) => {
  try {
    const planes = await tiles.run(task);
    parentPort!.postMessage({ id: task.id, planes }, planes.map((p) => p.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) });
  }
});
