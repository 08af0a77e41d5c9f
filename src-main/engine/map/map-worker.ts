/**
 * A thread of the MAP core: tasks in (tiles, region kernels, ringing trials), results out with the memory the thread
 * holds (see map-threads.ts).
 */
import { parentPort } from 'node:worker_threads';
import { MapTaskRunner, type MapTask } from './map-tasks.ts';

const runner = new MapTaskRunner();

parentPort!.on('message', async ({ id, task }: { id: number; task: MapTask }) => {
  try {
    const result = await runner.run(task);
    const transfer = Array.isArray(result) ? result.map((p) => p.buffer as ArrayBuffer) : [];
    parentPort!.postMessage({ id, result, memoryBytes: await runner.memoryBytes() }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err), memoryBytes: await runner.memoryBytes() });
  }
});
