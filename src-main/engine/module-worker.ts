import { Worker, type WorkerOptions } from 'node:worker_threads';
import { moduleExtension } from './module-extension.ts';

/**
 * A worker thread running the module at `target` (built with moduleExtension()). From TypeScript sources (tsx),
 * workers do not inherit tsx's loader, so the worker registers it first. `options.workerData` reaches the module.
 */
export function spawnModuleWorker(target: URL, options: Pick<WorkerOptions, 'workerData'> = {}): Worker {
  if (moduleExtension() === '.js') return new Worker(target, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(target.href)}); })().catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(code, { ...options, eval: true });
}
