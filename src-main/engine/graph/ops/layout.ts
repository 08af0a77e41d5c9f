/** Operators that rearrange activations: Concat (of activations, or of constants) and DepthToSpace. */
import * as tf from '@tensorflow/tfjs';
import { oneLine } from '../onnx-file.ts';
import { constToNhwc, depthToSpace, nhwcAxis } from '../nhwc-ops.ts';
import { onnxLayout, type NodeContext, type Step } from './context.ts';

export function concat(n: NodeContext): Step {
  if (n.attrs.axis == null) n.fail("attribute 'axis' is required");
  const axis = n.num('axis', 1);
  const parts = n.ins.map((_, i) => n.need(i));
  if (parts.length === 0) n.fail('no inputs');
  if (parts.every((p) => p.kind === 'const')) {
    const shapes = parts.map((p) => (p as { shape: number[] }).shape);
    const r = shapes[0].length;
    const ax = axis < 0 ? axis + r : axis;
    const shape = shapes[0].slice();
    shape[ax] = shapes.reduce((s, sh) => s + sh[ax], 0);
    n.output({ kind: 'const', shape });
    return n.step((env) => ({ kind: 'const', t: tf.concat(n.ins.map((_, i) => onnxLayout(n.constAt(env, i))), ax), layout: 'onnx' }));
  }
  let nax = 0;
  try {
    nax = nhwcAxis(axis);
  } catch (e) {
    n.fail(oneLine(e));
  }
  let c: number | null = 0;
  for (const p of parts) {
    if (p.kind === 'const' && p.shape.length !== 4) n.fail(`a constant input of rank ${p.shape.length} cannot be concatenated with 4-D activations`);
    const pc = p.kind === 'act' ? p.c : p.shape[1];
    if (nax === 3) c = c == null || pc == null ? null : c + pc;
    else if (c === 0) c = pc;
    else if (c != null && pc != null && c !== pc) n.fail(`inputs have ${c} and ${pc} channels; concatenating along axis ${axis} needs equal channels`);
  }
  n.output({ kind: 'act', c });
  return n.step((env) => {
    const ts = n.ins.map((nm) => {
      const v = env.get(nm)!;
      return v.kind === 'act' ? v.t : constToNhwc(onnxLayout(v));
    });
    return { kind: 'act', t: tf.concat(ts, nax) as tf.Tensor4D };
  });
}

export function depthToSpaceOp(n: NodeContext): Step {
  const a = n.act(0);
  const b = n.num('blocksize', NaN);
  if (!Number.isInteger(b) || b < 1) n.fail(`blocksize must be a positive integer, got ${n.attrs.blocksize}`);
  const mode = n.attrs.mode == null ? 'DCR' : String(n.attrs.mode).toUpperCase();
  if (mode !== 'DCR' && mode !== 'CRD') n.fail(`mode '${mode}' is not DCR or CRD`);
  if (a.c != null && a.c % (b * b) !== 0) n.fail(`input has ${a.c} channels, not a multiple of blocksize² = ${b * b}`);
  n.output({ kind: 'act', c: a.c == null ? null : a.c / (b * b) });
  return n.step((env) => {
    const x = n.actAt(env, 0);
    if (x.shape[3] % (b * b) !== 0) n.fail(`input has ${x.shape[3]} channels, not a multiple of blocksize² = ${b * b}`);
    return { kind: 'act', t: depthToSpace(x, b, mode as 'DCR' | 'CRD') };
  });
}
