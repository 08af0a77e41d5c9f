/**
 * One data-parallel training worker (see parallel.ts): its own tfjs and backend, its own copy of G, M, D built from
 * specs, its own Adam. For each iteration it receives its shard of the batch, computes one phase's gradients,
 * sends them, and applies the averaged gradients it gets back (identically on every worker) before the next phase.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { TrainingConfig } from './config.ts';
import { IterationCore, type CoreState, type NetworkRole, type PhaseResult } from './iteration.ts';
import { buildNetwork, type NetworkSpecs } from './network-spec.ts';
import { useTrainingBackend, type BackendChoice } from './tf-backend.ts';
import type { TrainingBatch } from './batch.ts';

export type WorkerRequest =
  | { id: number; type: 'init'; specs: NetworkSpecs; config: TrainingConfig; backend: BackendChoice }
  | { id: number; type: 'getState' }
  | { id: number; type: 'setState'; state: CoreState }
  | { id: number; type: 'begin'; shard: TrainingBatch }
  | { id: number; type: 'apply'; role: NetworkRole; grads: Float32Array; lr: number; poolMean: [number, number] }
  | { id: number; type: 'exportOnnx'; role: NetworkRole }
  | { id: number; type: 'memory' };

export interface PhaseMessage {
  type: 'phase';
  role: NetworkRole;
  grads: Float32Array;
  losses: Record<string, number>;
  sharpMeans?: Array<[number, number]>;
  /** Milliseconds this worker spent on the request that produced this phase (apply + compute). */
  ms?: number;
}

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

let core: IterationCore | null = null;

function flatten(r: PhaseResult, role: NetworkRole): PhaseMessage {
  const total = r.grads.reduce((s, g) => s + g.size, 0);
  const flat = new Float32Array(total);
  let o = 0;
  for (const g of r.grads) {
    flat.set(g.dataSync() as Float32Array, o);
    o += g.size;
  }
  tf.dispose(r.grads);
  return { type: 'phase', role, grads: flat, losses: r.losses, sharpMeans: r.sharpMeans };
}

function firstPhase(c: IterationCore): PhaseMessage {
  return c.network('M') ? flatten(c.motionPhase(), 'M') : flatten(c.discriminatorPhase(), 'D');
}

async function handle(msg: WorkerRequest): Promise<{ value: unknown; transfer?: ArrayBuffer[] }> {
  switch (msg.type) {
    case 'init': {
      const backend = await useTrainingBackend(msg.backend);
      const G = await buildNetwork(msg.specs.G);
      const M = msg.specs.M ? await buildNetwork(msg.specs.M) : null;
      const D = await buildNetwork(msg.specs.D);
      core = new IterationCore({ G, M, D }, msg.config);
      const roles = core.roles();
      return { value: { backend: backend.name, notes: backend.notes, roles, names: Object.fromEntries(roles.map((r) => [r, core!.network(r)!.name])) } };
    }
    case 'getState': {
      const state = need().getState();
      const transfer = Object.values(state).flatMap((s) => (s ? [...s.weights, ...s.adam.m, ...s.adam.v].map((a) => a.buffer as ArrayBuffer) : []));
      return { value: state, transfer };
    }
    case 'setState':
      need().setState(msg.state);
      return { value: null };
    case 'begin': {
      const c = need();
      c.beginBatch(msg.shard);
      const p = firstPhase(c);
      return { value: p, transfer: [p.grads.buffer as ArrayBuffer] };
    }
    case 'apply': {
      const c = need();
      const net = c.network(msg.role)!;
      let o = 0;
      const grads = net.variables.map((v) => {
        const t = tf.tensor(msg.grads.subarray(o, o + v.size), v.shape);
        o += v.size;
        return t;
      });
      c.applyGradients(msg.role, grads, msg.lr);
      tf.dispose(grads);
      let p: PhaseMessage | null = null;
      if (msg.role === 'M') p = flatten(c.discriminatorPhase(), 'D');
      else if (msg.role === 'D') p = flatten(c.generatorPhase(msg.poolMean), 'G');
      else c.endBatch();
      return p ? { value: p, transfer: [p.grads.buffer as ArrayBuffer] } : { value: { type: 'done', numTensors: tf.memory().numTensors } };
    }
    case 'exportOnnx': {
      const bytes = need().network(msg.role)!.toOnnx();
      return { value: bytes };
    }
    case 'memory':
      return { value: tf.memory().numTensors };
  }
}

function need(): IterationCore {
  if (!core) throw new Error('worker not initialised');
  return core;
}

const port = parentPort;
if (!port) throw new Error('parallel-worker.ts must run in a worker thread');
// One request at a time, in order: the coordinator never sends the next before this one's reply.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      const t0 = performance.now();
      const { value, transfer } = await handle(msg);
      if (value && typeof value === 'object' && ((value as PhaseMessage).type === 'phase' || (value as { type?: string }).type === 'done')) (value as PhaseMessage).ms = performance.now() - t0;
      port.postMessage({ id: msg.id, ok: true, value } satisfies WorkerReply, transfer ?? []);
    } catch (err) {
      const e = err as Error;
      port.postMessage({ id: msg.id, ok: false, error: e?.stack ?? String(err) } satisfies WorkerReply);
    }
  });
});
