/**
 * The MAP core's threads from the session provider: warm from one run to the next, new ones after a cancel closed
 * them or when Settings change their number, none for one thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionProvider, type ComputeChoice } from '../../src-main/engine/infer/session-provider.ts';
import { mapDeblurRaster } from '../../src-main/engine/map/deblur-photo.ts';
import { sampleRaster } from '../helpers/blurred-sample.ts';

test('the threads stay warm between runs; a cancelled run closes them and the next run gets new ones', async () => {
  const sessions = new SessionProvider(() => ({ executionProvider: 'cpu', threads: 2 }));
  try {
    const photo = await sampleRaster(320, 240);
    const pool = await sessions.mapPool();
    assert.ok(pool && !pool.runsHere && pool.threads === 2);
    await mapDeblurRaster(photo, { pool });
    assert.equal(await sessions.mapPool(), pool);
    const controller = new AbortController();
    const run = mapDeblurRaster(photo, { pool, signal: controller.signal });
    await new Promise((res) => setTimeout(res, 100));
    controller.abort();
    await assert.rejects(run, (err: Error) => err.name === 'AbortError');
    assert.ok(pool.closed);
    const next = await sessions.mapPool();
    assert.ok(next && next !== pool && !next.closed);
    assert.ok((await mapDeblurRaster(photo, { pool: next })).estimate.regions.length);
  } finally {
    await sessions.close();
  }
});

test('Settings choose the number: a change starts new threads, one thread none, and closing stops them', async () => {
  let choice: ComputeChoice = { executionProvider: 'cpu', threads: 2 };
  const sessions = new SessionProvider(() => choice);
  const two = await sessions.mapPool();
  choice = { executionProvider: 'cpu', threads: 3 };
  const three = await sessions.mapPool();
  assert.ok(two?.closed && three?.threads === 3);
  choice = { executionProvider: 'cpu', threads: 1 };
  assert.equal(await sessions.mapPool(), null);
  assert.ok(three.closed);
  choice = { executionProvider: 'cpu', threads: 2 };
  const again = await sessions.mapPool();
  await sessions.close();
  assert.ok(again?.closed);
  assert.deepEqual(sessions.uses.map((u) => u.kind === 'map' && u.threads), [2, 3, 1, 2]);
});

test('threads let go while a run is on them (Settings changed, a batch still going) close only when it ends', async () => {
  let choice: ComputeChoice = { executionProvider: 'cpu', threads: 2 };
  const sessions = new SessionProvider(() => choice);
  const pool = (await sessions.mapPool())!;
  const run = mapDeblurRaster(await sampleRaster(320, 240), { pool });
  choice = { executionProvider: 'cpu', threads: 3 };
  await sessions.close();
  const next = await sessions.mapPool();
  assert.ok(!pool.closed && next !== pool, 'still running');
  assert.ok((await run).estimate.regions.length);
  assert.ok(pool.closed);
  await sessions.close();
});
