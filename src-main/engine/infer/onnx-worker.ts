/**
 * The inference thread of one ModelSession (session.ts): loads the model with the first execution provider that
 * works, then runs tiles. onnxruntime-node's `session.run` blocks its thread for the whole inference, so it runs
 * here, off the thread that reads and blends tiles. Tensors arrive and leave as transferred buffers.
 */
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { FromOnnxWorker, OnnxWorkerData, ProviderAttempt, ToOnnxWorker } from './onnx-worker-protocol.ts';

const port = parentPort!;
const ort = createRequire(import.meta.url)((workerData as OnnxWorkerData).ortPath) as typeof Ort;
try {
  ort.env.logLevel = 'fatal';
} catch {
  /* older builds: the default level */
}
let session: Ort.InferenceSession | null = null;
let names: { input: string; output: string } | null = null;

function post(m: FromOnnxWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

/** An error as one short line. */
function line(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n').map((s) => s.trim()).filter(Boolean).join(' ').slice(0, 400);
}

async function load(m: Extract<ToOnnxWorker, { type: 'load' }>): Promise<void> {
  const attempts: ProviderAttempt[] = [];
  for (const p of m.providers) {
    if (p.skip) {
      attempts.push({ provider: p.name, ok: false, reason: p.skip, ms: 0 });
      continue;
    }
    const t0 = Date.now();
    try {
      const s = await ort.InferenceSession.create(m.file, {
        executionProviders: [p.name],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: m.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        logSeverityLevel: 3,
      });
      session = s;
      attempts.push({ provider: p.name, ok: true, ms: Date.now() - t0 });
      names = { input: s.inputNames[0], output: s.outputNames[0] };
      post({ type: 'loaded', provider: p.name, attempts, inputNames: s.inputNames, outputNames: s.outputNames });
      return;
    } catch (e) {
      attempts.push({ provider: p.name, ok: false, reason: line(e) + (p.hint || ''), ms: Date.now() - t0 });
    }
  }
  post({ type: 'load-failed', attempts });
}

async function run(m: Extract<ToOnnxWorker, { type: 'run' }>): Promise<void> {
  try {
    if (!session || !names) throw new Error('no model is loaded');
    const feeds = { [names.input]: new ort.Tensor('float32', m.input, [1, m.input.length / (m.height * m.width), m.height, m.width]) };
    const r = await session.run(feeds);
    const out = r[names.output];
    const raw = out.data;
    const data = raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
    const output = data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength ? data.slice() : data;
    const reply: FromOnnxWorker = { type: 'result', id: m.id, output, input: m.input, dims: out.dims };
    try {
      post(reply, [output.buffer as ArrayBuffer, m.input.buffer as ArrayBuffer]);
    } catch {
      post(reply);
    }
  } catch (e) {
    const back = m.input?.buffer?.byteLength ? [m.input.buffer as ArrayBuffer] : [];
    post({ type: 'error', id: m.id, message: line(e), input: m.input }, back);
  }
}

port.on('message', async (m: ToOnnxWorker) => {
  if (m.type === 'load') await load(m);
  else if (m.type === 'run') await run(m);
  else if (m.type === 'dispose') {
    try {
      if (session) await session.release();
    } catch {
      /* closing anyway */
    }
    session = null;
    post({ type: 'disposed' });
  }
});
