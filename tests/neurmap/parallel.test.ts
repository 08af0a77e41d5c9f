import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { LocalEngine } from '../../src-main/engine/neurmap/engine.ts';
import { WorkerEngine, workerCompute } from '../../src-main/engine/neurmap/parallel.ts';
import { parseTrainingConfig } from '../../src-main/engine/neurmap/config.ts';
import { SharpMotionPool } from '../../src-main/engine/neurmap/losses.ts';
import { tinyNetworkSpec } from './helpers/tiny-networks.ts';
import { trainNeurmap } from '../../src-main/engine/neurmap/trainer.ts';
import { createTinyNetwork, disposeNetworks, MemoryBatchSource, useCpu } from './helpers/fixtures.ts';

before(useCpu);

const CROP = 16;
const specs = {
  G: tinyNetworkSpec('deblur', { seed: 1, width: 4, residualScale: 4 }),
  M: tinyNetworkSpec('motion', { seed: 2, width: 4 }),
  D: tinyNetworkSpec('discriminator', { seed: 3, width: 4 }),
};

test('data-parallel workers compute the same gradients, losses and updates as one process', async () => {
  const cfg = parseTrainingConfig({ cropSize: CROP, iterations: 10, seed: 3 });
  const nets = {
    G: createTinyNetwork('deblur', { seed: 1, width: 4, residualScale: 4 }),
    M: createTinyNetwork('motion', { seed: 2, width: 4 }),
    D: createTinyNetwork('discriminator', { seed: 3, width: 4 }),
  };
  const local = new LocalEngine(nets, cfg, 'cpu');
  const workers = await WorkerEngine.create({ workers: 2, networks: specs, config: cfg, backend: 'cpu' });
  try {
    const data = new MemoryBatchSource(CROP);
    const lr = { G: 3e-3, M: 1e-3, D: 1e-3 };
    const poolA = new SharpMotionPool(50);
    const poolB = new SharpMotionPool(50);
    const counts: number[][] = [];
    for (let i = 0; i < 3; i++) {
      const batch = await data.batch(i);
      const a = await local.iterate(batch, lr, poolA, { captureGradients: true });
      const b = await workers.iterate(batch, lr, poolB, { captureGradients: true });
      for (const role of ['M', 'D', 'G'] as const) {
        const x = a.gradients![role]!;
        const y = b.gradients![role]!;
        assert.equal(x.length, y.length);
        let scale = 0;
        for (const v of x) scale = Math.max(scale, Math.abs(v));
        for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) <= 1e-5 * scale + 1e-9, `iteration ${i}, ∇${role}[${k}]: ${x[k]} vs ${y[k]}`);
      }
      for (const [k, v] of Object.entries(a.losses)) assert.ok(Math.abs(b.losses[k] - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${k}: ${b.losses[k]} vs ${v}`);
      poolA.mean().forEach((v, k) => assert.ok(Math.abs(poolB.mean()[k] - v) < 1e-6, 'sharp-map pool'));
      counts.push(await workers.workerTensorCounts());
    }
    // The workers' weights stay equal to the single-process ones.
    const sa = await local.getState();
    const sb = await workers.getState();
    for (const role of ['G', 'M', 'D'] as const) {
      sa[role]!.weights.forEach((w, i) => w.forEach((v, k) => assert.ok(Math.abs(v - sb[role]!.weights[i][k]) < 1e-5, `${role} weight ${i}[${k}]`)));
    }
    // No tensors leak in the workers.
    assert.deepEqual(counts[2], counts[1]);
  } finally {
    await workers.dispose();
    await local.dispose();
    disposeNetworks(nets);
  }
});

test('the trainer runs on worker threads; a batch that cannot be split evenly is a clear error', async () => {
  const result = await trainNeurmap({
    config: { cropSize: CROP, iterations: 2, seed: 3 },
    compute: workerCompute({ workers: 2, networks: specs, backend: 'cpu' }),
    data: new MemoryBatchSource(CROP),
  });
  assert.equal(result.status, 'completed');
  assert.ok(Number.isFinite(result.lastLosses!['G.total']));
  await assert.rejects(
    WorkerEngine.create({ workers: 2, networks: specs, config: parseTrainingConfig({ cropSize: CROP, batch: { paired: 1, unpaired: 2 } }), backend: 'cpu' }),
    /cannot split a batch of 1 paired \+ 2 unpaired samples evenly/,
  );
});

test('a worker that dies in the middle of an iteration fails it with a clear error, the other worker is not left waiting, and the engine stops', async () => {
  const cfg = parseTrainingConfig({ cropSize: CROP, iterations: 10, seed: 3 });
  const workers = await WorkerEngine.create({ workers: 2, networks: specs, config: cfg, backend: 'cpu' });
  try {
    const batch = await new MemoryBatchSource(CROP).batch(0);
    const lr = { G: 3e-3, M: 1e-3, D: 1e-3 };
    const running = workers.iterate(batch, lr, new SharpMotionPool(50));
    // Worker 1 computes its M phase and waits for the mean gradient, which never comes: worker 0 is gone.
    await (workers as unknown as { handles: Array<{ worker: { terminate(): Promise<number> } }> }).handles[0].worker.terminate();
    await assert.rejects(running, /training worker 0 exited/);
    // The workers may now hold different weights: the engine refuses to go on.
    await assert.rejects(workers.iterate(batch, lr, new SharpMotionPool(50)), /stopped in a failed iteration .*start again from the last checkpoint/);
    // The survivor was woken and stopped waiting: it answers the next request.
    assert.equal((await Promise.race([
      (workers as unknown as { handles: Array<{ request<T>(m: { type: 'memory' }): Promise<T> }> }).handles[1].request<number>({ type: 'memory' }).then(() => 'answered'),
      new Promise((r) => setTimeout(() => r('stuck'), 5000)),
    ])), 'answered');
  } finally {
    await workers.dispose();
  }
});
