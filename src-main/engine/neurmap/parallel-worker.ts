/**
 * One data-parallel training worker (see parallel.ts): its own tfjs and backend, its own copy of G, M, D built from
 * specs, its own Adam. For each iteration it receives its shard of the batch and runs IterationCore.iterate on it;
 * at each phase it sends its gradients and waits, synchronously, for the coordinator to write their mean into the
 * shared exchange buffer, which it applies (identically on every worker) before the next phase. The wait must be
 * synchronous because the phases run nested inside G's gradient computation (iteration.ts).
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { TrainingConfig } from './config.ts';
import { flattenTensors } from './tensor-ops.ts';
import { attachGradientExchange, awaitMean, exchangeSequence, type GradientExchange } from './gradient-exchange.ts';
import { IterationCore, type CoreState, type ExchangedGradients, type NetworkRole, type PhaseResult } from './iteration.ts';
import { buildNetwork, type NetworkSpecs } from './network-spec.ts';
import { useTrainingBackend, type BackendChoice } from './tf-backend.ts';
import type { TrainingBatch } from './batch.ts';

export type WorkerRequest =
  | { id: number; type: 'init'; specs: NetworkSpecs; config: TrainingConfig; backend: BackendChoice }
  | { id: number; type: 'getState' }
  | { id: number; type: 'setState'; state: CoreState }
  | { id: number; type: 'attach'; exchange: SharedArrayBuffer }
  | { id: number; type: 'iterate'; shard: TrainingBatch; lr: Record<NetworkRole, number> }
  | { id: number; type: 'exportOnnx'; role: NetworkRole }
  | { id: number; type: 'memory' };

/** Sent (unrequested) at each phase of an iteration. */
export interface PhaseMessage {
  type: 'phase';
  role: NetworkRole;
  grads: Float32Array;
  losses: Record<string, number>;
  sharpMeans?: Array<[number, number]>;
  /** Milliseconds this worker computed since the last exchange (or the start of the iteration). */
  ms: number;
}

/** The reply to 'iterate': the time spent applying the last (G) update. */
export interface IterationDone {
  type: 'done';
  ms: number;
}

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

let core: IterationCore | null = null;
let shared: GradientExchange | null = null;

/** Send this phase's gradients, then block until the coordinator has written the mean of every worker's. */
function exchangeSynchronously(role: NetworkRole, r: PhaseResult, clock: { t0: number }): ExchangedGradients {
  if (!shared) throw new Error('worker has no exchange buffer (attach was not sent)');
  const seen = exchangeSequence(shared);
  const grads = flattenTensors(r.grads);
  const message: PhaseMessage = { type: 'phase', role, grads, losses: r.losses, sharpMeans: r.sharpMeans, ms: performance.now() - clock.t0 };
  const size = grads.length; // read before the transfer empties it
  port!.postMessage(message, [grads.buffer as ArrayBuffer]);
  const mean = awaitMean(shared, seen, size);
  clock.t0 = performance.now();
  return mean;
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
      const c = core;
      return {
        value: {
          backend: backend.name,
          notes: backend.notes,
          roles,
          names: Object.fromEntries(roles.map((r) => [r, c.network(r)!.name])),
          weights: Object.fromEntries(roles.map((r) => [r, c.network(r)!.variables.reduce((n, v) => n + v.size, 0)])),
        },
      };
    }
    case 'attach': {
      shared = attachGradientExchange(msg.exchange);
      return { value: null };
    }
    case 'getState': {
      const state = need().getState();
      const transfer = Object.values(state).flatMap((s) => (s ? [...s.weights, ...s.adam.m, ...s.adam.v].map((a) => a.buffer as ArrayBuffer) : []));
      return { value: state, transfer };
    }
    case 'setState':
      need().setState(msg.state);
      return { value: null };
    case 'iterate': {
      const clock = { t0: performance.now() };
      need().iterate(msg.shard, msg.lr, (role, r) => exchangeSynchronously(role, r, clock));
      const done: IterationDone = { type: 'done', ms: performance.now() - clock.t0 };
      return { value: done };
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
      const { value, transfer } = await handle(msg);
      port.postMessage({ id: msg.id, ok: true, value } satisfies WorkerReply, transfer ?? []);
    } catch (err) {
      const e = err as Error;
      port.postMessage({ id: msg.id, ok: false, error: e?.stack ?? String(err) } satisfies WorkerReply);
    }
  });
});
