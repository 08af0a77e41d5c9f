/** A deconvolution thread: tiles in, deconvolved tiles out (see deconv-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { FftCache, pffft } from './fft2d.ts';
import { deconvolvePlanes } from './deconvolve.ts';
import type { TileTask } from './deconv-pool.ts';

const ffts = pffft().then((m) => new FftCache(m));

parentPort!.on('message', async (task: TileTask & { id: number }) => {
  try {
    const planes = deconvolvePlanes(await ffts, task.planes, task.width, task.height, task.kernel, task.params);
    parentPort!.postMessage({ id: task.id, planes }, planes.map((p) => p.buffer as ArrayBuffer));
  } catch (err) {
    parentPort!.postMessage({ id: task.id, error: err instanceof Error ? err.message : String(err) });
  }
});
