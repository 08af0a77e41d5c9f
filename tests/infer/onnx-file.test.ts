import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  decodeModel, encodeModel, readModelFile, writeModelFile, getMetadata, setMetadata, graphInputs, graphOutputs,
  nodeAttributes, tensorToFloat32, tensorDims, initializerMap, toNumber, opsetVersion, setTensorFloat32, DataType,
  type TensorProto,
} from '../../src-main/engine/graph/onnx-file.ts';
import { TinyOnnx, tinyDeblur } from '../helpers/tiny-onnx.ts';

test('a built model decodes with its nodes, attributes, initializers, metadata and I/O', () => {
  const b = new TinyOnnx(3);
  const x = b.input();
  const c = b.conv(x, 8, { kernel: 3 });
  const d = b.depthToSpace(b.concat([c, c], 1), 2);
  const y = b.conv(b.leakyRelu(d, 0.1), 3, { kernel: 1, stride: 1 });
  b.output(b.tanh(b.clip(y, -1, 1)));
  b.setMetadata('size_multiple', '32');
  const m = decodeModel(b.bytes());
  assert.equal(toNumber(m.irVersion), 8);
  assert.equal(opsetVersion(m), 17);
  assert.deepEqual(getMetadata(m), { size_multiple: '32' });
  assert.deepEqual(graphInputs(m), [{ name: 'input', elemType: DataType.FLOAT, shape: [1, 3, 'H', 'W'] }]);
  assert.equal(graphOutputs(m)[0].name, 'output');
  const ops = m.graph!.node!.map((n) => n.opType);
  assert.deepEqual(ops, ['Conv', 'Concat', 'DepthToSpace', 'LeakyRelu', 'Conv', 'Clip', 'Tanh', 'Identity']);
  const conv = nodeAttributes(m.graph!.node![0]);
  assert.deepEqual(conv.kernel_shape, [3, 3]);
  assert.deepEqual(conv.pads, [1, 1, 1, 1]);
  assert.equal(conv.group, 1);
  assert.equal(nodeAttributes(m.graph!.node![2]).mode, 'DCR');
  assert.ok(Math.abs((nodeAttributes(m.graph!.node![3]).alpha as number) - 0.1) < 1e-7);
  const w = initializerMap(m).get(m.graph!.node![0].input![1])!;
  assert.deepEqual(tensorDims(w), [8, 3, 3, 3]);
  assert.equal(tensorToFloat32(w).length, 8 * 27);
});

test('int64 fields decode as Long consistently and convert with toNumber', () => {
  const m = decodeModel(tinyDeblur().bytes());
  const dims = m.graph!.initializer![0].dims!;
  for (const d of dims) assert.equal(typeof d, 'object', 'int64 dims are Long objects');
  assert.equal(typeof m.irVersion, 'object');
  assert.ok(dims.map(toNumber).every((n) => Number.isInteger(n) && n > 0));
});

test('write back is byte-faithful for weights and stable on a second round trip', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nm-onnx-'));
  try {
    const bytes = tinyDeblur(9).bytes();
    const file = path.join(dir, 'a.onnx');
    await writeFile(file, bytes);
    const m = await readModelFile(file);
    const out = path.join(dir, 'b.onnx');
    await writeModelFile(out, m);
    const again = await readFile(out);
    assert.deepEqual(new Uint8Array(again), new Uint8Array(bytes), 'decode → encode reproduces the file');
    const m2 = decodeModel(again);
    const a = initializerMap(m);
    for (const [name, t] of initializerMap(m2)) assert.deepEqual(t.rawData, a.get(name)!.rawData, `weights of ${name}`);
    assert.deepEqual(encodeModel(m2), encodeModel(m));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('float_data tensors (not raw_data) keep every float32 bit, NaN/∞/denormals/−0 included', () => {
  const vals = [0, -0, 1.5, -2.25, 3.4028234663852886e38, 1.401298464324817e-45, Math.fround(0.1), Infinity, -Infinity];
  const b = new TinyOnnx();
  b.input();
  b.output('input');
  const model = b.model();
  const t: TensorProto = { name: 'f', dims: [vals.length], dataType: DataType.FLOAT, floatData: vals };
  model.graph!.initializer = [t];
  const m = decodeModel(encodeModel(model));
  const back = tensorToFloat32(m.graph!.initializer![0]);
  assert.equal(back.length, vals.length);
  for (let i = 0; i < vals.length; i++) assert.ok(Object.is(back[i], Math.fround(vals[i])), `value ${i}`);
  const m3 = decodeModel(encodeModel(m));
  assert.deepEqual(encodeModel(m3), encodeModel(m));
});

test('weights can be replaced and metadata edited (the trainer’s write-back path)', () => {
  const m = decodeModel(tinyDeblur().bytes());
  const t = m.graph!.initializer![0];
  const n = tensorToFloat32(t).length;
  const fresh = Float32Array.from({ length: n }, (_, i) => i / 7);
  setTensorFloat32(t, fresh);
  setMetadata(m, 'size_multiple', '16');
  setMetadata(m, 'size_multiple', '8');
  const m2 = decodeModel(encodeModel(m));
  assert.deepEqual(tensorToFloat32(m2.graph!.initializer![0]), fresh);
  assert.deepEqual(getMetadata(m2), { size_multiple: '8' });
});

test('corrupt bytes give one clear line naming the source', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'nm-onnx-'));
  try {
    const cases: [string, Uint8Array][] = [
      ['empty.onnx', new Uint8Array(0)],
      ['text.onnx', new TextEncoder().encode('hello, this is not a model\n')],
      ['truncated.onnx', tinyDeblur().bytes().slice(0, 200)],
      ['noise.onnx', Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24)],
    ];
    for (const [name, bytes] of cases) {
      const file = path.join(dir, name);
      await writeFile(file, bytes);
      await assert.rejects(readModelFile(file), (e: Error) => {
        assert.ok(e.message.startsWith(file), e.message);
        assert.ok(!e.message.includes('\n'), 'one line');
        assert.match(e.message, /not a valid ONNX model/);
        return true;
      }, name);
    }
    await assert.rejects(readModelFile(path.join(dir, 'missing.onnx')), /missing\.onnx: cannot read model file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
