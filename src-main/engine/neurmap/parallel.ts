import type { Worker } from 'node:worker_threads';
import { shardBatch, type TrainingBatch } from './batch.ts';
import type { TrainingConfig } from './config.ts';
import type { IterationOutput, TrainingEngine } from './engine.ts';
import type { CoreState, LossValues, NetworkRole } from './iteration.ts';
import type { SharpMotionPool } from './losses.ts';
import type { NetworkSpecs } from './network-spec.ts';
import type { IterationDone, PhaseMessage, WorkerReply, WorkerRequest } from './parallel-worker.ts';
import { abortExchange, attachGradientExchange, beginExchange, createGradientExchange, publishMean, type GradientExchange } from './gradient-exchange.ts';
import type { BackendChoice } from './tf-backend.ts';
import { moduleExtension } from '../module-extension.ts';
import { spawnModuleWorker } from '../module-worker.ts';
import type { ComputeChoice } from './trainer.ts';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Data-parallel training on worker threads. tfjs's WASM backend runs one thread per process in Node, so to use
 * every core each worker thread runs its own tfjs with its own copy of G, M and D. Per iteration:
 *
 *   coordinator: split the batch into equal shards (batch.ts shardBatch), one per worker; send each its shard
 *   workers:     M phase on their shard → ∇M (message)  coordinator: average into the shared buffer; pool mean
 *   workers:     apply mean ∇M (own Adam), D phase → ∇D  coordinator: average
 *   workers:     apply mean ∇D, G losses → ∇G            coordinator: average
 *   workers:     apply mean ∇G; reply
 *
 * Gradients go to the coordinator as messages; the means come back through one SharedArrayBuffer, on which the
 * workers wait synchronously (Atomics.wait), because each worker's phases run nested inside its G gradient
 * computation (iteration.ts) and cannot yield to an event loop in between.
 *
 * Every loss is a mean over equal shards, so the averaged gradient is the whole batch's gradient (up to float
 * rounding), and every worker applies the same Adam update to the same weights: the copies never drift apart
 * (they start equal: worker 0's initial weights are copied to the others). The coordinator holds no tfjs state;
 * it only shards, averages and keeps the sharp-map pool, so this thread stays free (for the data stream).
 */
export interface WorkerEngineOptions {
  workers: number;
  networks: NetworkSpecs;
  config: TrainingConfig;
  /** Backend each worker selects (default 'auto'). */
  backend?: BackendChoice;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class WorkerHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly phases: PhaseMessage[] = [];
  private phaseWaiter: ((m: PhaseMessage) => void) | null = null;
  private dead: Error | null = null;

  constructor(
    readonly worker: Worker,
    readonly index: number,
  ) {
    worker.on('message', (m: WorkerReply | PhaseMessage) => {
      if ('type' in m) {
        if (this.phaseWaiter) this.phaseWaiter(m);
        else this.phases.push(m);
        this.phaseWaiter = null;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(`training worker ${index}: ${m.error}`));
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on('error', (e) => fail(new Error(`training worker ${index} crashed: ${e.message}`)));
    worker.on('exit', (code) => fail(new Error(`training worker ${index} exited (code ${code})`)));
  }

  /** The next phase message of the running iteration (they arrive unrequested). */
  nextPhase(): Promise<PhaseMessage> {
    const queued = this.phases.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.phaseWaiter = resolve));
  }

  /** Forget phase messages of an aborted iteration. */
  clearPhases(): void {
    this.phases.length = 0;
    this.phaseWaiter = null;
  }

  request<T>(msg: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Where a WorkerEngine's time goes: the slowest worker's busy time per step vs the coordinator's wall time. */
export interface WorkerEngineStats {
  iterations: number;
  wallMs: number;
  /** Sum over all steps of the slowest worker's time (compute + applying updates). */
  computeMs: number;
  /** wallMs − computeMs: messages, copies, averaging, waiting for the slowest worker's start. */
  overheadMs: number;
}

export class WorkerEngine implements TrainingEngine {
  readonly description: string;
  private readonly totals = { iterations: 0, wallMs: 0, computeMs: 0 };
  private failed: Error | null = null;

  private constructor(
    private readonly handles: WorkerHandle[],
    private readonly exchange: GradientExchange,
    readonly roles: NetworkRole[],
    readonly networkNames: Partial<Record<NetworkRole, string>>,
    backend: string,
    readonly backendNotes: string[],
  ) {
    this.description = `${handles.length} worker thread${handles.length > 1 ? 's' : ''} (${backend})`;
  }

  static async create(opts: WorkerEngineOptions): Promise<WorkerEngine> {
    const n = opts.workers;
    if (!Number.isInteger(n) || n < 1) throw new Error(`workers must be a positive integer, got ${n}`);
    const { paired, unpaired } = opts.config.batch;
    if (paired % n !== 0 || unpaired % n !== 0) {
      throw new Error(`${n} workers cannot split a batch of ${paired} paired + ${unpaired} unpaired samples evenly`);
    }
    const handles = Array.from({ length: n }, (_, i) => new WorkerHandle(spawnWorker(), i));
    try {
      const infos = await Promise.all(
        handles.map((h) =>
          h.request<{ backend: string; notes: string[]; roles: NetworkRole[]; names: Partial<Record<NetworkRole, string>>; weights: Partial<Record<NetworkRole, number>> }>({
            type: 'init', specs: opts.networks, config: opts.config, backend: opts.backend ?? 'auto',
          }),
        ),
      );
      const buffer = createGradientExchange(Math.max(...Object.values(infos[0].weights).map((w) => w ?? 0)));
      await Promise.all(handles.map((h) => h.request({ type: 'attach', exchange: buffer })));
      const exchange = attachGradientExchange(buffer);
      const engine = new WorkerEngine(handles, exchange, infos[0].roles, infos[0].names, infos[0].backend, infos[0].notes);
      // Same starting weights everywhere (a fresh D, for one, is random per build unless seeded).
      if (n > 1) await engine.setState(await engine.getState());
      return engine;
    } catch (err) {
      await Promise.all(handles.map((h) => h.worker.terminate()));
      throw err;
    }
  }

  get workers(): number {
    return this.handles.length;
  }

  async iterate(batch: TrainingBatch, lr: Record<NetworkRole, number>, pool: SharpMotionPool, opts: { captureGradients?: boolean } = {}): Promise<IterationOutput> {
    if (this.failed) throw new Error(`the training workers stopped in a failed iteration (${this.failed.message}); their weights may differ: start again from the last checkpoint`);
    const n = this.handles.length;
    const t0 = performance.now();
    const shards = shardBatch(batch, n);
    const losses: LossValues = {};
    const gradients: Partial<Record<NetworkRole, Float32Array>> | undefined = opts.captureGradients ? {} : undefined;
    beginExchange(this.exchange);
    for (const h of this.handles) h.clearPhases();
    const replies = this.handles.map((h, s) => h.request<IterationDone>({ type: 'iterate', shard: shards[s], lr }));
    // Rejects as soon as one worker's iteration fails, so that the others can be woken and stopped.
    const failure = Promise.all(replies).then(() => new Promise<never>(() => undefined));
    failure.catch(() => undefined);
    try {
      // One exchange per network, in the iteration's order (M, D, G).
      for (let phase = 0; phase < this.roles.length; phase++) {
        const results = await Promise.race([Promise.all(this.handles.map((h) => h.nextPhase())), failure]);
        const role = results[0].role;
        if (results.some((r) => r.role !== role)) throw new Error(`training workers are out of step (${results.map((r) => r.role).join(', ')})`);
        this.totals.computeMs += Math.max(...results.map((r) => r.ms));
        const mean = averageInto(results.map((r) => r.grads));
        for (const key of Object.keys(results[0].losses)) losses[key] = results.reduce((s, r) => s + r.losses[key], 0) / n;
        if (role === 'M') {
          // The pool takes the sharp maps in whole-batch order: paired sharp of every shard, then unpaired sharp.
          const p = batch.paired / n;
          pool.push([...results.flatMap((r) => r.sharpMeans!.slice(0, p)), ...results.flatMap((r) => r.sharpMeans!.slice(p))]);
        }
        if (gradients) gradients[role] = mean.slice();
        publishMean(this.exchange, mean, role === 'M' ? pool.mean() : undefined);
      }
      const done = await Promise.all(replies);
      this.totals.computeMs += Math.max(...done.map((d) => d.ms));
    } catch (err) {
      // Some workers may have applied an update the others have not: this engine cannot go on.
      this.failed = err as Error;
      abortExchange(this.exchange);
      await Promise.allSettled(replies);
      throw err;
    }
    this.totals.iterations++;
    this.totals.wallMs += performance.now() - t0;
    return { losses, gradients };
  }

  stats(): WorkerEngineStats {
    return { ...this.totals, overheadMs: this.totals.wallMs - this.totals.computeMs };
  }

  resetStats(): void {
    Object.assign(this.totals, { iterations: 0, wallMs: 0, computeMs: 0 });
  }

  async getState(): Promise<CoreState> {
    return this.handles[0].request<CoreState>({ type: 'getState' });
  }

  async setState(state: CoreState): Promise<void> {
    await Promise.all(this.handles.map((h) => h.request({ type: 'setState', state })));
  }

  /** The trained network as ONNX bytes (built by worker 0; every worker holds the same weights). */
  async exportOnnx(role: NetworkRole): Promise<Uint8Array> {
    return this.handles[0].request<Uint8Array>({ type: 'exportOnnx', role });
  }

  /** Live tensors in each worker (for leak checks). */
  async workerTensorCounts(): Promise<number[]> {
    return Promise.all(this.handles.map((h) => h.request<number>({ type: 'memory' })));
  }

  async dispose(): Promise<void> {
    abortExchange(this.exchange);
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}

/** The trainer's compute choice for `workers` data-parallel worker threads. */
export function workerCompute(opts: Omit<WorkerEngineOptions, 'config'>): ComputeChoice {
  return { kind: 'engine', create: (config: TrainingConfig) => WorkerEngine.create({ ...opts, config }) };
}

/** Mean of equally long arrays (the first is reused as the output). */
function averageInto(arrays: Float32Array[]): Float32Array {
  const out = arrays[0];
  const n = arrays.length;
  if (n === 1) return out;
  for (let k = 1; k < n; k++) {
    const a = arrays[k];
    if (a.length !== out.length) throw new Error('workers sent gradients of different sizes');
    for (let i = 0; i < out.length; i++) out[i] += a[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
}

function workerModule(): URL {
  return new URL('./parallel-worker' + moduleExtension(), import.meta.url);
}

/**
 * Whether worker threads can load the trainer here: its modules must exist as files beside this one, which is
 * not the case inside a bundle (the packaged app), where training runs in the calling thread instead.
 */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(workerModule()));
}

function spawnWorker(): Worker {
  return spawnModuleWorker(workerModule());
}
