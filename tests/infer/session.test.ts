import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSession, closeSessions, cachedSessions, inspectModel, ModelLoadError } from '../../src-main/engine/infer/session.ts';
import { availableProviders, defaultProviderOrder, defaultThreads } from '../../src-main/engine/infer/providers.ts';
import { TinyOnnx, tinyDeblur, tinyPointwise, constantMotion } from '../helpers/tiny-onnx.ts';
import { deblurRaster } from '../../src-main/engine/infer/deblur.ts';
import { createRaster } from '../../src-main/engine/image/raster.ts';

const dir = await mkdtemp(path.join(tmpdir(), 'nm-session-'));
after(async () => {
  await closeSessions();
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string) => path.join(dir, name);

test('available providers come from onnxruntime-node and include the CPU', () => {
  const av = availableProviders();
  assert.ok(av.some((p) => p.name === 'cpu' && p.bundled && p.used));
  assert.deepEqual(defaultProviderOrder('linux'), ['cuda', 'cpu']);
  assert.deepEqual(defaultProviderOrder('win32'), ['cuda', 'dml', 'cpu']);
  assert.deepEqual(defaultProviderOrder('darwin'), ['coreml', 'cpu']);
  assert.ok(defaultThreads() >= 1);
});

test('a provider that fails to load is skipped with its reason, and the CPU runs the model', async () => {
  const f = await tinyDeblur().save(file('g.onnx'));
  const s = await openSession(f, { providers: ['cuda', 'dml', 'coreml', 'cpu'], role: 'deblur', cache: false });
  try {
    assert.equal(s.provider, 'cpu');
    assert.deepEqual(s.attempts.map((a) => a.provider), ['cuda', 'dml', 'coreml', 'cpu']);
    for (const a of s.attempts.slice(0, 3)) {
      assert.equal(a.ok, false);
      assert.ok(a.reason && a.reason.length > 5, `reason recorded for ${a.provider}: ${a.reason}`);
    }
    assert.equal(s.attempts[3].ok, true);
    assert.equal(s.threads, defaultThreads());
    // the session works
    const x = new Float32Array(3 * 16 * 16).fill(0.5);
    const r = await s.run(x, 16, 16);
    assert.equal(r.output.length, 3 * 16 * 16);
    assert.equal(r.input.length, 3 * 16 * 16, 'input buffer handed back');
  } finally {
    await s.dispose();
  }
});

test('CPU is appended when the requested providers all fail', async () => {
  const f = await tinyDeblur().save(file('g2.onnx'));
  const s = await openSession(f, { providers: ['cuda'], cache: false });
  assert.equal(s.provider, 'cpu');
  assert.equal(s.attempts.length, 2);
  await s.dispose();
});

test('sessions are created once per file and provider order, and renewed when the file changes', async () => {
  const f = await tinyPointwise().save(file('p.onnx'));
  const a = await openSession(f, { providers: ['cpu'] });
  const [b, c] = await Promise.all([openSession(f, { providers: ['cpu'] }), openSession(f, { providers: ['cpu'] })]);
  assert.equal(a, b);
  assert.equal(a, c);
  const other = await openSession(f, { providers: ['cuda', 'cpu'] });
  assert.notEqual(other, a);
  assert.ok((await cachedSessions()).some((s) => s.file.endsWith('p.onnx')));
  // a new version of the file gets a new session and retires the old one
  await tinyPointwise(99).save(f);
  await utimes(f, new Date(), new Date(Date.now() + 5000));
  const d = await openSession(f, { providers: ['cpu'] });
  assert.notEqual(d, a);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(a.disposed, true);
  await closeSessions(f);
  assert.equal(d.disposed, true);
  assert.equal(other.disposed, true);
});

test('size multiple comes from metadata_props, default 16; fixed H×W is detected', async () => {
  const g = tinyDeblur();
  g.setMetadata('size_multiple', '8');
  const info = await inspectModel(await g.save(file('m8.onnx')));
  assert.equal(info.sizeMultiple, 8);
  assert.equal(info.fixedSize, null);
  assert.equal(info.outChannels, 3);
  assert.equal((await inspectModel(await tinyDeblur().save(file('m16.onnx')))).sizeMultiple, 16);
  const b = new TinyOnnx();
  const x = b.input('input', [1, 3, 32, 48]);
  b.output(b.conv(x, 3, { kernel: 1 }), 'output', [1, 3, 32, 48]);
  const fixed = await inspectModel(await b.save(file('fixed.onnx')));
  assert.deepEqual(fixed.fixedSize, { width: 48, height: 32 });
});

function expectOneLine(f: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ModelLoadError, `ModelLoadError, got ${e}`);
    assert.ok(e.message.startsWith(f + ': '), e.message);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  };
}

test('a corrupt ONNX file gives one clear error line naming the file', async () => {
  const cases: [string, Uint8Array | string][] = [
    ['corrupt.onnx', Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) & 255)],
    ['truncated.onnx', tinyDeblur().bytes().slice(0, 300)],
    ['empty.onnx', new Uint8Array(0)],
    ['json.onnx', '{"not": "a model"}'],
  ];
  for (const [name, data] of cases) {
    const f = file(name);
    await writeFile(f, data);
    await assert.rejects(openSession(f), expectOneLine(f, /not a valid ONNX model|cannot load/), name);
  }
  await assert.rejects(openSession(file('nope.onnx')), expectOneLine(file('nope.onnx'), /cannot read model file/));
});

test('a model with the wrong inputs or outputs is refused with one clear line', async () => {
  const two = new TinyOnnx();
  const a = two.input('input');
  const bb = two.input('second');
  two.output(two.add(a, bb));

  const grey = new TinyOnnx();
  grey.output(grey.conv(grey.input('input', [1, 1, 'H', 'W']), 3, { kernel: 1 }));

  const rank3 = new TinyOnnx();
  rank3.output(rank3.identity(rank3.input('input', [3, 'H', 'W'])), 'output', [3, 'H', 'W']);

  const ints = new TinyOnnx();
  ints.output(ints.identity(ints.input('input', [1, 3, 'H', 'W'], 7)), 'output', [1, 3, 'H', 'W']);

  const four = new TinyOnnx();
  four.output(four.conv(four.input(), 4, { kernel: 1 }));

  const batch = new TinyOnnx();
  batch.output(batch.conv(batch.input('input', [2, 3, 'H', 'W']), 3, { kernel: 1 }));

  const badMeta = tinyDeblur().setMetadata('size_multiple', 'sixteen');

  const cases: [string, TinyOnnx, RegExp, 'deblur' | 'motion' | undefined][] = [
    ['two-inputs.onnx', two, /expected 1 image input, found 2 \(input, second\)/, undefined],
    ['grey.onnx', grey, /must have 3 channels/, undefined],
    ['rank3.onnx', rank3, /must be NCHW \(rank 4\)/, undefined],
    ['int64.onnx', ints, /must be float32/, undefined],
    ['four.onnx', four, /4 channels, expected 3 \(deblur\) or 2 \(motion\)/, undefined],
    ['batch.onnx', batch, /batch 2/, undefined],
    ['meta.onnx', badMeta, /size_multiple "sixteen"/, undefined],
    ['motion-as-deblur.onnx', constantMotion(0.1, 0.1), /2 channels, a deblur model must have 3/, 'deblur'],
    ['deblur-as-motion.onnx', tinyDeblur(), /3 channels, a motion model must have 2/, 'motion'],
  ];
  for (const [name, model, pattern, role] of cases) {
    const f = await model.save(file(name));
    await assert.rejects(openSession(f, { role }), expectOneLine(f, pattern), name);
  }
});

test('a model ONNX Runtime cannot load (unknown operator) is refused with the runtime’s reason', async () => {
  const b = new TinyOnnx();
  const x = b.input();
  b.output(b.node('NoSuchOperator', [x]), 'output', [1, 3, 'H', 'W']);
  const f = await b.save(file('unknown-op.onnx'));
  await assert.rejects(openSession(f, { providers: ['cpu'] }), expectOneLine(f, /ONNX Runtime cannot load the model \(.*NoSuchOperator/));
});

test('running the network does not block the main thread (it runs in a worker)', async () => {
  const b = new TinyOnnx(1);
  const x = b.input();
  let h = b.relu(b.conv(x, 16, { kernel: 3 }));
  for (let i = 0; i < 3; i++) h = b.relu(b.conv(h, 16, { kernel: 3 }));
  b.output(b.add(x, b.conv(h, 3, { kernel: 3 })));
  const s = await openSession(await b.save(file('busy.onnx')), { providers: ['cpu'] });
  let ticks = 0;
  const iv = setInterval(() => ticks++, 2);
  const t0 = performance.now();
  let runs = 0;
  while (performance.now() - t0 < 300) {
    await s.run(new Float32Array(3 * 256 * 256).fill(0.3), 256, 256);
    runs++;
  }
  clearInterval(iv);
  const ms = performance.now() - t0;
  assert.ok(runs >= 1);
  assert.ok(ticks > ms / 2 / 4, `timer ticked ${ticks} times in ${ms.toFixed(0)} ms during ${runs} runs`);
});

test('a session whose worker dies fails its calls with a clear error and is replaced on the next open', async () => {
  const f = await tinyPointwise(4).save(file('crash.onnx'));
  const s = await openSession(f, { providers: ['cpu'] });
  await (s as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.disposed, true);
  await assert.rejects(s.run(new Float32Array(3 * 16 * 16), 16, 16), /crash\.onnx: inference worker exited/);
  const again = await openSession(f, { providers: ['cpu'] });
  assert.notEqual(again, s);
  const r = await again.run(new Float32Array(3 * 16 * 16).fill(0.5), 16, 16);
  assert.equal(r.output.length, 3 * 16 * 16);
});

test('the refiner takes the MAP result and the photo (6 channels) and runs only with the MAP result beside the photo', async () => {
  // out = 0.75·MAP + 0.25·photo: channel order of the tiles is [MAP rgb, photo rgb]
  const w = new Array<number>(18).fill(0);
  for (let c = 0; c < 3; c++) {
    w[c * 6 + c] = 0.75;
    w[c * 6 + 3 + c] = 0.25;
  }
  const b = new TinyOnnx();
  b.output(b.conv(b.input('input', [1, 6, 'H', 'W']), 3, { kernel: 1, weights: w, bias: [0, 0, 0] }));
  const f = await b.save(file('refiner.onnx'));
  await assert.rejects(openSession(f, { role: 'deblur' }), expectOneLine(f, /must have 3 channels/));
  await assert.rejects(openSession(await tinyDeblur().save(file('g-as-refiner.onnx')), { role: 'refine' }), /must have 6 channels/);

  const session = await openSession(f, { role: 'refine' });
  assert.equal(session.inChannels, 6);
  const photo = createRaster(40, 24, 8);
  const map = createRaster(40, 24, 8);
  for (let i = 0; i < photo.rgb.length; i++) {
    photo.rgb[i] = (i * 7) % 256;
    map.rgb[i] = (i * 13) % 256;
  }
  await assert.rejects(deblurRaster(session, photo), /needs its result/);
  const res = await deblurRaster(session, photo, { guide: map });
  let worst = 0;
  for (let i = 0; i < photo.rgb.length; i++) worst = Math.max(worst, Math.abs(res.data[i] / 65535 - (0.75 * map.rgb[i] + 0.25 * photo.rgb[i]) / 255));
  assert.ok(worst < 1e-3, `largest difference ${worst}`);
  await assert.rejects(deblurRaster(await openSession(await tinyDeblur().save(file('g3.onnx')), { role: 'deblur' }), photo, { guide: map }), /needs a 6-channel model/);
});
