/**
 * ONNX Runtime sessions for the image networks (G: 3→3, M: 3→2), one per model file and provider order,
 * created once and reused.
 *
 * Each session lives in its own worker thread. onnxruntime-node's `session.run` is synchronous native code
 * behind a promise (it blocks the calling thread for the whole inference), so running it on the main thread
 * would freeze Electron's main process and leave no room to prepare the next tile. In the worker it runs while
 * the main thread reads the next tile and blends the previous one; tensors cross as transferred ArrayBuffers
 * (no copies). The worker is unref'd while idle, so an open session never keeps a CLI process alive.
 */
import type { Worker } from 'node:worker_threads';
import { stat, realpath } from 'node:fs/promises';
import {
  readModelFile, graphInputs, graphOutputs, getMetadata, opsetVersion, oneLine, DataType, type ModelProto,
} from '../graph/onnx-file.ts';
import {
  ORT_PATH, defaultProviderOrder, defaultThreads, providerHint, providerUnavailableReason, PROVIDER_LABELS,
  type ProviderName,
} from './providers.ts';
import type { FromOnnxWorker, OnnxWorkerData, ProviderAttempt, ToOnnxWorker } from './onnx-worker-protocol.ts';
import { moduleExtension } from '../module-extension.ts';
import { spawnModuleWorker } from '../module-worker.ts';

export type { ProviderAttempt };

/** What a user's model is for: deblur (G, 3 → 3) or motion (M, 3 → 2). */
export type ModelRole = 'deblur' | 'motion';
/** What a session checks a model for: a user's role, or refine (the MAP core's refiner: MAP output + photo, 6 → 3). */
export type SessionRole = ModelRole | 'refine';

export const DEFAULT_SIZE_MULTIPLE = 16;

/** What a model file declares, checked against what the engine needs. */
export interface ModelInfo {
  file: string;
  inputName: string;
  outputName: string;
  /** Channels in: 3, or 6 for the refiner. */
  inChannels: number;
  /** Channels out: 3 for G, 2 for M. */
  outChannels: number;
  /** Tile sides must be multiples of this (metadata_props "size_multiple", default 16). */
  sizeMultiple: number;
  /** Set when the graph was exported with a fixed H×W: every tile then has exactly this size. */
  fixedSize: { width: number; height: number } | null;
  metadata: Record<string, string>;
  opset: number | null;
}

export interface RunResult {
  /** CHW float32 output, outChannels × height × width. */
  output: Float32Array;
  /** The input buffer, handed back for reuse. */
  input: Float32Array;
}

export interface ModelSession extends ModelInfo {
  /** The execution provider that runs this model. */
  readonly provider: ProviderName;
  /** Every provider tried, in order, with the reason each failed one was skipped. */
  readonly attempts: ProviderAttempt[];
  readonly threads: number;
  /**
   * Run the network on one CHW tile (3 × height × width, values in [0,1]). The input buffer is transferred to
   * the worker (detached here) and comes back in the result for reuse.
   */
  run(input: Float32Array, height: number, width: number): Promise<RunResult>;
  dispose(): Promise<void>;
  readonly disposed: boolean;
}

export interface OpenOptions {
  /** Providers to try, in order (default: defaultProviderOrder()). CPU is appended when missing. */
  providers?: ProviderName[];
  /** Checks the output channel count: 3 for 'deblur', 2 for 'motion'. */
  role?: SessionRole;
  /** Intra-op threads (default: os.availableParallelism()). */
  threads?: number;
  /** Reuse / store in the session cache (default true). */
  cache?: boolean;
}

/** An error about one model file; `message` is a single line that starts with the file's path. */
export class ModelLoadError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'ModelLoadError';
  }
}

// ---- model checks ------------------------------------------------------------------------------------------

/** Check a decoded model against what the engine needs (one NCHW float input of 3 channels, one output). */
export function checkModel(file: string, model: ModelProto, role?: SessionRole): ModelInfo {
  const bad = (why: string): never => { throw new ModelLoadError(file, why); };
  const inputs = graphInputs(model);
  const outputs = graphOutputs(model);
  if (inputs.length !== 1) bad(`expected 1 image input, found ${inputs.length}${inputs.length ? ` (${inputs.map((i) => i.name).join(', ')})` : ''}`);
  if (outputs.length !== 1) bad(`expected 1 output, found ${outputs.length}${outputs.length ? ` (${outputs.map((o) => o.name).join(', ')})` : ''}`);
  const inp = inputs[0];
  const out = outputs[0];
  if (inp.elemType !== DataType.FLOAT) bad(`input "${inp.name}" must be float32 (element type ${inp.elemType})`);
  if (out.elemType !== DataType.FLOAT) bad(`output "${out.name}" must be float32 (element type ${out.elemType})`);
  if (!inp.shape || inp.shape.length !== 4) bad(`input "${inp.name}" must be NCHW (rank 4), found shape ${fmtShape(inp.shape)}`);
  const inChannels = role === 'refine' ? 6 : 3;
  if (inp.shape![1] !== inChannels) bad(`input "${inp.name}" must have ${inChannels} channels (NCHW), found shape ${fmtShape(inp.shape)}`);
  const batch = inp.shape![0];
  if (typeof batch === 'number' && batch !== 1) bad(`input "${inp.name}" has batch ${batch}, expected 1 or dynamic`);
  if (out.shape && out.shape.length !== 4) bad(`output "${out.name}" must be NCHW (rank 4), found shape ${fmtShape(out.shape)}`);
  const oc = out.shape ? out.shape[1] : null;
  const want = role === 'deblur' || role === 'refine' ? 3 : role === 'motion' ? 2 : null;
  if (typeof oc === 'number') {
    if (want !== null && oc !== want) bad(`output "${out.name}" has ${oc} channels, a ${role} model must have ${want}`);
    if (want === null && oc !== 3 && oc !== 2) bad(`output "${out.name}" has ${oc} channels, expected 3 (deblur) or 2 (motion)`);
  }
  const metadata = getMetadata(model);
  let sizeMultiple = DEFAULT_SIZE_MULTIPLE;
  if (metadata.size_multiple !== undefined) {
    const v = Number(metadata.size_multiple);
    if (!Number.isInteger(v) || v < 1 || v > 4096) bad(`metadata size_multiple "${metadata.size_multiple}" is not a positive integer`);
    sizeMultiple = v;
  }
  const h = inp.shape![2];
  const w = inp.shape![3];
  const fixedSize = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { width: w, height: h } : null;
  return {
    file,
    inputName: inp.name,
    outputName: out.name,
    inChannels,
    outChannels: typeof oc === 'number' ? oc : want ?? 3,
    sizeMultiple,
    fixedSize,
    metadata,
    opset: opsetVersion(model),
  };
}

function fmtShape(s: (number | string | null)[] | null): string {
  return s ? `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]` : 'unknown';
}

/** Read and check a model file without starting ONNX Runtime. Throws ModelLoadError. */
export async function inspectModel(file: string, role?: SessionRole): Promise<ModelInfo> {
  let model: ModelProto;
  try {
    model = await readModelFile(file);
  } catch (e) {
    const msg = oneLine(e);
    throw new ModelLoadError(file, msg.startsWith(`${file}: `) ? msg.slice(file.length + 2) : msg);
  }
  return checkModel(file, model, role);
}

// ---- the session: a thread of its own -----------------------------------------------------------------------

interface Pending { resolve: (r: RunResult) => void; reject: (e: Error) => void; height: number; width: number }

class WorkerSession implements ModelSession {
  readonly file: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly sizeMultiple: number;
  readonly fixedSize: { width: number; height: number } | null;
  readonly metadata: Record<string, string>;
  readonly opset: number | null;
  provider: ProviderName = 'cpu';
  attempts: ProviderAttempt[] = [];
  disposed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;

  constructor(info: ModelInfo, private readonly worker: Worker, readonly threads: number) {
    this.file = info.file;
    this.inputName = info.inputName;
    this.outputName = info.outputName;
    this.inChannels = info.inChannels;
    this.outChannels = info.outChannels;
    this.sizeMultiple = info.sizeMultiple;
    this.fixedSize = info.fixedSize;
    this.metadata = info.metadata;
    this.opset = info.opset;
    worker.on('message', (m: FromOnnxWorker) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new ModelLoadError(this.file, `inference worker failed: ${oneLine(e)}`)));
    worker.on('exit', (code) => { if (!this.disposed) this.fail(new ModelLoadError(this.file, `inference worker exited (code ${code})`)); });
  }

  /** The worker died: fail what is pending and count as closed, so openSession() makes a fresh session. */
  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.disposed = true;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.worker.terminate().catch(() => {});
  }

  private onMessage(m: FromOnnxWorker): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.type === 'error') {
      p.reject(new Error(`${this.file}: inference failed on ${PROVIDER_LABELS[this.provider]} (${m.message})`));
      return;
    }
    const want = this.outChannels * p.height * p.width;
    if (m.output.length !== want) {
      p.reject(new Error(`${this.file}: output has ${m.output.length} values for a ${p.width}×${p.height} tile, expected ${want} (dims ${m.dims?.join('×')}); the network must keep H and W`));
      return;
    }
    p.resolve({ output: m.output, input: m.input });
  }

  run(input: Float32Array, height: number, width: number): Promise<RunResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.disposed) return Promise.reject(new Error(`${this.file}: session is closed`));
    if (input.length !== this.inChannels * height * width) return Promise.reject(new Error(`run: input has ${input.length} values, expected ${this.inChannels * height * width}`));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, height, width });
      this.worker.ref();
      post(this.worker, { type: 'run', id, input, height, width }, [input.buffer as ArrayBuffer]);
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pending.values()) p.reject(new Error(`${this.file}: session closed`));
    this.pending.clear();
    this.worker.ref();
    await new Promise<void>((resolve) => {
      const done = () => { clearTimeout(t); this.worker.off('message', onMsg); resolve(); };
      const onMsg = (m: FromOnnxWorker) => { if (m.type === 'disposed') done(); };
      const t = setTimeout(done, 2000);
      this.worker.on('message', onMsg);
      post(this.worker, { type: 'dispose' });
    });
    await this.worker.terminate();
  }
}

/** The inference thread's module (onnx-worker.ts; in the packaged app, its bundle beside this one). */
function workerModule(): URL {
  return new URL('./onnx-worker' + moduleExtension(), import.meta.url);
}

function post(worker: Worker, m: ToOnnxWorker, transfer: ArrayBuffer[] = []): void {
  worker.postMessage(m, transfer);
}

async function createWorkerSession(info: ModelInfo, providers: ProviderName[], threads: number): Promise<WorkerSession> {
  const order = providers.includes('cpu') ? providers : [...providers, 'cpu' as const];
  const worker = spawnModuleWorker(workerModule(), { workerData: { ortPath: ORT_PATH } satisfies OnnxWorkerData });
  const session = new WorkerSession(info, worker, threads);
  const reply = await new Promise<FromOnnxWorker>((resolve, reject) => {
    const onMsg = (m: FromOnnxWorker) => {
      if (m.type === 'loaded' || m.type === 'load-failed') { worker.off('error', onErr); worker.off('message', onMsg); resolve(m); }
    };
    const onErr = (e: Error) => { worker.off('message', onMsg); reject(new ModelLoadError(info.file, `inference worker failed to start: ${oneLine(e)}`)); };
    worker.on('message', onMsg);
    worker.once('error', onErr);
    post(worker, {
      type: 'load',
      file: info.file,
      threads,
      providers: order.map((name) => ({ name, skip: providerUnavailableReason(name), hint: providerHint(name) })),
    });
  });
  if (reply.type !== 'loaded') {
    const attempts = reply.type === 'load-failed' ? reply.attempts : [];
    await session.dispose().catch(() => {});
    const last = attempts[attempts.length - 1];
    throw new ModelLoadError(info.file, `ONNX Runtime cannot load the model (${last?.reason ?? 'unknown error'})`);
  }
  session.provider = reply.provider;
  session.attempts = reply.attempts;
  worker.unref();
  return session;
}

// ---- the cache ---------------------------------------------------------------------------------------------

interface CacheEntry { file: string; /** file + options, without the file version */ base: string; promise: Promise<ModelSession> }
const cache = new Map<string, CacheEntry>();

/**
 * The session for a model file: created on first use (providers tried in order, falling back on failure) and
 * reused while the file is unchanged. Throws ModelLoadError (one line naming the file) for a missing, corrupt
 * or unsuitable model.
 */
export async function openSession(file: string, opts: OpenOptions = {}): Promise<ModelSession> {
  const providers = opts.providers ?? defaultProviderOrder();
  const threads = opts.threads ?? defaultThreads();
  let real: string;
  let key: string;
  let base: string;
  try {
    real = await realpath(file);
    const st = await stat(real);
    if (!st.isFile()) throw new Error('not a file');
    base = JSON.stringify([real, providers, threads, opts.role ?? '']);
    key = JSON.stringify([base, st.mtimeMs, st.size]);
  } catch (e) {
    throw new ModelLoadError(file, `cannot read model file (${oneLine(e)})`);
  }
  const useCache = opts.cache !== false;
  if (useCache) {
    const hit = cache.get(key);
    if (hit) {
      const s = await hit.promise;
      if (!s.disposed) return s;
      cache.delete(key);
    }
    // A changed file (new mtime/size) retires the sessions of its previous version.
    for (const [k, v] of cache) {
      if (v.base === base) {
        cache.delete(k);
        v.promise.then((s) => s.dispose()).catch(() => {});
      }
    }
  }
  const promise = (async () => {
    const info = await inspectModel(file, opts.role);
    return createWorkerSession(info, providers, threads);
  })();
  if (useCache) {
    cache.set(key, { file: real, base, promise });
    promise.catch(() => { if (cache.get(key)?.promise === promise) cache.delete(key); });
  }
  return promise;
}

/** Close the cached sessions of one file (every provider order), or all of them. */
export async function closeSessions(file?: string): Promise<void> {
  let real: string | undefined;
  if (file) real = await realpath(file).catch(() => file);
  const closing: Promise<void>[] = [];
  for (const [k, v] of cache) {
    if (real === undefined || v.file === real) {
      cache.delete(k);
      closing.push(v.promise.then((s) => s.dispose(), () => {}));
    }
  }
  await Promise.all(closing);
}

/** Sessions currently cached (for `neurmap info` / systemInfo()). */
export async function cachedSessions(): Promise<{ file: string; provider: ProviderName; attempts: ProviderAttempt[] }[]> {
  const out: { file: string; provider: ProviderName; attempts: ProviderAttempt[] }[] = [];
  for (const v of cache.values()) {
    try {
      const s = await v.promise;
      if (!s.disposed) out.push({ file: s.file, provider: s.provider, attempts: s.attempts });
    } catch { /* failed opens are not listed */ }
  }
  return out;
}
