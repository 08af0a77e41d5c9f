/**
 * The MAP core on all cores: worker threads that each hold their own PFFFT instance and plans, running region
 * kernel estimates, ringing trials and tile deconvolutions. Where the worker module is not a file beside this one
 * (inside a bundle), or one thread is asked for, tasks run in the calling thread instead.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { moduleExtension } from '../module-extension.ts';
import { spawnModuleWorker } from '../module-worker.ts';
import type { TileTask } from './deconvolve-tile.ts';
import type { Kernel } from './kernel.ts';
import { KEPT_BYTES, MapTaskRunner, taskBuffers, type KernelTask, type MapTask, type MapTaskResults } from './map-tasks.ts';
import type { Plane } from './plane.ts';
import type { Verdict } from './region-guard.ts';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

function workerModule(): URL {
  return new URL('./map-worker' + moduleExtension(), import.meta.url);
}

export class MapThreads {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ task: MapTask; signal?: AbortSignal; pending: Pending }> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  /** Each thread's WebAssembly memory, as its last reply gave it. */
  private readonly memory = new Map<Worker, number>();
  private nextId = 0;
  private local: MapTaskRunner | null = null;
  private stopped = false;
  /** Runs using these threads now (withMapThreads counts them), and whether the last one to end closes them. */
  private users = 0;
  private retired = false;

  /**
   * threads: 0 = all cores. `signal` reaches the tasks that run in this thread (worker threads are stopped instead).
   * `keptBytes`: the WebAssembly memory a thread may keep between runs before it is renewed.
   */
  constructor(threads = 0, private readonly signal?: AbortSignal, private readonly keptBytes = KEPT_BYTES) {
    const n = threads > 0 ? threads : Math.max(1, os.availableParallelism());
    if (!existsSync(fileURLToPath(workerModule())) || n === 1) {
      this.local = new MapTaskRunner();
      return;
    }
    for (let i = 0; i < n; i++) this.spawn();
  }

  private spawn(): void {
    const w = spawnModuleWorker(workerModule());
    w.unref();
    w.on('message', (msg: { id: number; result?: unknown; error?: string; memoryBytes: number }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      this.busy.delete(w);
      this.memory.set(w, msg.memoryBytes);
      this.idle.push(w);
      this.pump();
      if (!p) return;
      if (msg.error === undefined) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
    w.on('error', (err) => this.fail(w, err));
    w.on('exit', (code) => this.fail(w, new Error(`a MAP core thread stopped (exit code ${code})`)));
    this.workers.push(w);
    this.idle.push(w);
  }

  /**
   * Idle threads whose WebAssembly memory a photo's tiles grew (it cannot shrink) are replaced by new ones, so that
   * warm threads hold little between runs and the memory is back before the result is encoded.
   */
  private renewGrown(): void {
    for (const w of this.idle.filter((t) => (this.memory.get(t) ?? 0) > this.keptBytes)) {
      this.idle.splice(this.idle.indexOf(w), 1);
      this.workers.splice(this.workers.indexOf(w), 1);
      this.memory.delete(w);
      void w.terminate();
      this.spawn();
    }
  }

  get threads(): number {
    return this.workers.length || 1;
  }

  /** The worker threads' ids (none where tasks run in the calling thread). */
  get threadIds(): number[] {
    return this.workers.map((w) => w.threadId);
  }

  /** True where tasks run in the calling thread (one thread asked for, or no worker module beside this one). */
  get runsHere(): boolean {
    return this.local !== null;
  }

  /** A run starts on these threads (withMapThreads counts the runs, so retired threads close after their last). */
  enter(): void {
    this.users++;
  }

  /** A run ends; the last one on retired threads closes them, on the others lets their grown memory go. */
  async leave(): Promise<void> {
    this.users--;
    if (this.users > 0) return;
    if (this.retired) await this.close();
    else if (!this.stopped) {
      this.renewGrown();
      await this.local?.release();
    }
  }

  /** Closes the threads now if no run uses them, else when the last one ends (their owner no longer wants them). */
  retire(): void {
    this.retired = true;
    if (this.users === 0) void this.close();
  }

  /** True once closed (by its owner, or by a cancel of a run on it): its owner starts new threads. */
  get closed(): boolean {
    return this.stopped;
  }

  /**
   * Each task may carry its run's cancel signal: a task still queued when its run is cancelled never starts (on a
   * pool that outlives runs, a cancelled run must not hold up the next one).
   */
  deconvolve(tile: TileTask, signal?: AbortSignal): Promise<Float32Array[]> {
    return this.submit({ kind: 'tile', tile }, signal);
  }

  kernel(plane: Plane, options: KernelTask, signal?: AbortSignal): Promise<Kernel> {
    return this.submit({ kind: 'kernel', plane, options }, signal);
  }

  ringing(plane: Plane, kernel: Kernel, lambda: number, signal?: AbortSignal): Promise<Verdict> {
    return this.submit({ kind: 'ringing', plane, kernel, lambda }, signal);
  }

  private submit<K extends MapTask['kind']>(task: Extract<MapTask, { kind: K }>, signal?: AbortSignal): Promise<MapTaskResults[K]> {
    if (this.local) return this.local.run(task, signal ?? this.signal);
    return new Promise((resolve, reject) => {
      this.queue.push({ task, signal, pending: { resolve: resolve as (r: unknown) => void, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const { task, signal, pending } = this.queue.shift()!;
      if (signal?.aborted) {
        pending.reject(signal.reason);
        continue;
      }
      const w = this.idle.pop()!;
      const id = this.nextId++;
      this.pending.set(id, pending);
      this.busy.set(w, id);
      w.postMessage({ id, task }, taskBuffers(task));
    }
  }

  private fail(w: Worker, err: Error): void {
    const id = this.busy.get(w);
    if (id === undefined) return;
    this.busy.delete(w);
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.reject(err);
  }

  /** Stops the threads; queued and running tasks fail. */
  async close(): Promise<void> {
    this.stopped = true;
    const err = new Error('the MAP core stopped');
    for (const q of this.queue.splice(0)) q.pending.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.local?.close();
    this.workers.length = 0;
    this.idle.length = 0;
  }
}

/**
 * Runs `fn` on MAP core threads: `threads` new ones that close when it ends, or running ones that stay (the session
 * provider keeps them warm between runs). Either closes at once on a cancel: their tasks then fail with their own
 * errors, and the cancel is what is reported.
 */
export async function withMapThreads<T>(threads: number | MapThreads, signal: AbortSignal | undefined, fn: (threads: MapThreads) => Promise<T>): Promise<T> {
  const owned = typeof threads === 'number';
  const pool = owned ? new MapThreads(threads, signal) : threads;
  if (pool.closed) throw new Error('the MAP core stopped');
  const abort = () => void pool.close();
  signal?.addEventListener('abort', abort, { once: true });
  pool.enter();
  try {
    return await fn(pool);
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
    await pool.leave();
    if (owned) await pool.close();
  }
}
