/**
 * The shared buffer through which the data-parallel coordinator hands each phase's mean gradient to its workers
 * (parallel.ts, parallel-worker.ts). Layout: Int32 [sequence, abort], then Float32 [pool mean u, pool mean v,
 * mean gradient…]. The coordinator writes a phase's mean, then increments the sequence and wakes the workers; it
 * sets abort when an iteration must stop (a worker failed, or the engine is disposed). Workers wait synchronously:
 * their phases run nested inside G's gradient computation (iteration.ts) and cannot yield to an event loop.
 */
const SEQUENCE = 0;
const ABORT = 1;
const HEADER_BYTES = 8;
const POOL_MEAN = 0;
const GRADS = 2;

export interface GradientExchange {
  control: Int32Array;
  data: Float32Array;
}

/** A buffer for networks of at most `maxWeights` weights. */
export function createGradientExchange(maxWeights: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + 4 * (GRADS + maxWeights));
}

export function attachGradientExchange(buffer: SharedArrayBuffer): GradientExchange {
  return { control: new Int32Array(buffer, 0, 2), data: new Float32Array(buffer, HEADER_BYTES) };
}

/** Coordinator: start an iteration (clears a previous abort). */
export function beginExchange(x: GradientExchange): void {
  Atomics.store(x.control, ABORT, 0);
}

/** Coordinator: publish a phase's mean gradient (and the pool mean after M's phase) and wake the workers. */
export function publishMean(x: GradientExchange, mean: Float32Array, poolMean?: readonly [number, number]): void {
  if (poolMean) x.data.set(poolMean, POOL_MEAN);
  x.data.set(mean, GRADS);
  Atomics.add(x.control, SEQUENCE, 1);
  Atomics.notify(x.control, SEQUENCE);
}

/** Coordinator: make every waiting worker throw. */
export function abortExchange(x: GradientExchange): void {
  Atomics.store(x.control, ABORT, 1);
  Atomics.notify(x.control, SEQUENCE);
}

/** Worker: the sequence number before sending a phase's gradients (what `awaitMean` waits to change). */
export function exchangeSequence(x: GradientExchange): number {
  return Atomics.load(x.control, SEQUENCE);
}

/** Worker: block until the coordinator publishes the mean after `seen`; a copy of it and the pool mean. */
export function awaitMean(x: GradientExchange, seen: number, size: number): { grads: Float32Array; poolMean: [number, number] } {
  for (;;) {
    if (Atomics.load(x.control, ABORT)) throw new Error('iteration aborted: another training worker failed');
    if (Atomics.load(x.control, SEQUENCE) !== seen) break;
    Atomics.wait(x.control, SEQUENCE, seen, 1000);
  }
  return { grads: x.data.slice(GRADS, GRADS + size), poolMean: [x.data[POOL_MEAN], x.data[POOL_MEAN + 1]] };
}
