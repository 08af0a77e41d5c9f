/**
 * Deconvolution on all cores: worker threads that each hold their own PFFFT instance and plans. Where the worker
 * module is not a file beside this one (inside a bundle), tiles run in the calling thread instead.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { moduleExtension } from '../module-extension.ts';
import { spawnModuleWorker } from '../module-worker.ts';
import { FftCache, pffft } from './fft2d.ts';
import { TileDeconvolver, type TileTask } from './deconvolve-tile.ts';

interface Pending {
  resolve: (planes: Float32Array[]) => void;
  reject: (err: Error) => void;
}

function workerModule(): URL {
  return new URL('./deconv-worker' + moduleExtension(), import.meta.url);
}

export class DeconvPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ task: TileTask; pending: Pending }> = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private nextId = 0;
  private local: TileDeconvolver | null = null;

  /** threads: 0 = all cores. */
  constructor(threads = 0) {
    const n = threads > 0 ? threads : Math.max(1, os.availableParallelism());
    if (!existsSync(fileURLToPath(workerModule())) || n === 1) {
      this.local = new TileDeconvolver(pffft().then((m) => new FftCache(m)));
      return;
    }
    for (let i = 0; i < n; i++) {
      const w = spawnModuleWorker(workerModule());
      w.unref();
      w.on('message', (msg: { id: number; planes?: Float32Array[]; error?: string }) => {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        this.busy.delete(w);
        this.idle.push(w);
        this.pump();
        if (!p) return;
        if (msg.planes) p.resolve(msg.planes);
        else p.reject(new Error(msg.error ?? 'deconvolution failed'));
      });
      w.on('error', (err) => this.fail(w, err));
      w.on('exit', (code) => this.fail(w, new Error(`a deconvolution thread stopped (exit code ${code})`)));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  get threads(): number {
    return this.workers.length || 1;
  }

  run(task: TileTask): Promise<Float32Array[]> {
    if (this.local) return this.local.run(task);
    return new Promise((resolve, reject) => {
      this.queue.push({ task, pending: { resolve, reject } });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const { task, pending } = this.queue.shift()!;
      const id = this.nextId++;
      this.pending.set(id, pending);
      this.busy.set(w, id);
      w.postMessage({ id, ...task }, task.planes.map((p) => p.buffer as ArrayBuffer));
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

  /** Stops the threads; queued and running tiles fail. */
  async close(): Promise<void> {
    const err = new Error('deconvolution stopped');
    for (const q of this.queue.splice(0)) q.pending.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.local?.close();
    this.workers.length = 0;
    this.idle.length = 0;
  }
}
