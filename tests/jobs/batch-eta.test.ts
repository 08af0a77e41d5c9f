/**
 * The time left that a batch reports follows its measured throughput. Each photo's processing moves a mocked clock,
 * so the right answer is known exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runBatch, type BatchProgress, type BatchSettings } from '../../src-main/engine/jobs/batch.ts';
import { tempDir } from '../helpers/cli.ts';

async function folder(count: number): Promise<{ input: string; output: string; settings: BatchSettings }> {
  const input = await tempDir('neurmap-eta-in-');
  for (let i = 0; i < count; i++) await fs.writeFile(path.join(input, `p${String(i).padStart(2, '0')}.jpg`), 'x');
  const output = await tempDir('neurmap-eta-out-');
  const settings: BatchSettings = { inputDir: input, outputDir: output, recursive: false, format: 'jpeg', quality: 90, suffix: '-deblurred', skipExisting: true, processing: {} };
  return { input, output, settings };
}

type Tick = (ms: number) => void;

/** Processes a photo in `seconds` of clock time, reporting halfway; writes its output. */
function timed(tick: Tick, secondsFor: (input: string) => number) {
  return async (input: string, output: string, ctx: { onFraction: (f: number) => void }) => {
    const s = secondsFor(input);
    tick(s * 500);
    ctx.onFraction(0.5);
    tick(s * 500);
    await fs.writeFile(output, 'y');
  };
}

function near(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(actual != null && Math.abs(actual - expected) <= 0.1 * expected, `${what}: ${actual} s left, expected about ${expected} s`);
}

test('a slow first photo (the model opening) stops counting once the next ones show the steady rate', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const tick: Tick = (ms) => t.mock.timers.tick(ms);
  const { settings } = await folder(11);
  const events: BatchProgress[] = [];
  await runBatch(settings, timed(tick, (f) => (f.endsWith('p00.jpg') ? 60 : 3)), { sizeOf: async () => 1, onProgress: (p) => events.push(p) });
  // Six photos done, five left at 3 s each (measured over the photos since the first).
  near(events.find((e) => e.index === 5 && e.status === 'done')?.etaSeconds, 15, 'after the sixth photo');
  // Within a photo at the steady rate the estimate goes down, not up.
  const seventh = events.filter((e) => e.index === 7 && e.status === 'running');
  assert.ok(seventh.length === 2 && seventh[1].etaSeconds! < seventh[0].etaSeconds!, `${seventh.map((e) => e.etaSeconds).join(' → ')}`);
});

test('photos already done (a resumed batch) take no time and do not make the rest look fast', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const tick: Tick = (ms) => t.mock.timers.tick(ms);
  const { output, settings } = await folder(10);
  for (let i = 0; i < 4; i++) await fs.writeFile(path.join(output, `p0${i}-deblurred.jpg`), 'done before');
  const events: BatchProgress[] = [];
  const summary = await runBatch(settings, timed(tick, () => 3), { sizeOf: async () => 1, onProgress: (p) => events.push(p) });
  assert.equal(summary.skipped, 4);
  // The first photo processed in this run is done: five are left at 3 s each.
  near(events.find((e) => e.index === 4 && e.status === 'done')?.etaSeconds, 15, 'after the first processed photo');
});

test('a photo that fails at once does not make the rest look fast', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const tick: Tick = (ms) => t.mock.timers.tick(ms);
  const { settings } = await folder(6);
  const events: BatchProgress[] = [];
  const work = timed(tick, () => 4);
  await runBatch(
    settings,
    async (input, output, ctx) => {
      if (input.endsWith('p01.jpg') || input.endsWith('p02.jpg')) throw new Error('not an image');
      await work(input, output, ctx);
    },
    { sizeOf: async () => 1, onProgress: (p) => events.push(p) },
  );
  near(events.find((e) => e.index === 2 && e.status === 'failed')?.etaSeconds, 12, 'after two failures');
});
