/** Element-wise operators: Identity, the activations, Add / Sub / Mul with NCHW broadcasting, Clip. */
import * as tf from '@tensorflow/tfjs';
import { constToNhwc } from '../nhwc-ops.ts';
import { onnxLayout, tensorToFloatOrInts, type Info, type NodeContext, type Step } from './context.ts';

export function identity(n: NodeContext): Step {
  return n.alias();
}

/** Relu, Sigmoid, Tanh, LeakyRelu: on activations, or on constants (in ONNX layout). */
export function activation(n: NodeContext): Step {
  n.output(n.need(0));
  const alpha = n.op === 'LeakyRelu' ? n.num('alpha', 0.01) : 0;
  const f = (t: tf.Tensor): tf.Tensor => {
    switch (n.op) {
      case 'Relu': return tf.relu(t);
      case 'Sigmoid': return tf.sigmoid(t);
      case 'Tanh': return tf.tanh(t);
      default: return tf.leakyRelu(t, alpha);
    }
  };
  return n.step((env) => {
    const x = env.get(n.ins[0])!;
    return x.kind === 'act' ? { kind: 'act', t: f(x.t) as tf.Tensor4D } : { kind: 'const', t: f(onnxLayout(x)), layout: 'onnx' };
  });
}

/** Add, Sub, Mul: two constants, or an activation with an activation or a broadcast constant. */
export function arithmetic(n: NodeContext): Step {
  const a = n.need(0);
  const b = n.need(1);
  const f = n.op === 'Add' ? tf.add : n.op === 'Sub' ? tf.sub : tf.mul;
  if (a.kind === 'const' && b.kind === 'const') {
    n.output({ kind: 'const', shape: broadcastShape(a.shape, b.shape, n.fail) });
    return n.step((env) => ({ kind: 'const', t: f(onnxLayout(n.constAt(env, 0)), onnxLayout(n.constAt(env, 1))), layout: 'onnx' }));
  }
  n.output({ kind: 'act', c: elementwiseChannels(a, b, n.fail) });
  return n.step((env) => {
    const side = (i: number): tf.Tensor => {
      const v = env.get(n.ins[i])!;
      return v.kind === 'act' ? v.t : constToNhwc(onnxLayout(v));
    };
    return { kind: 'act', t: f(side(0), side(1)) as tf.Tensor4D };
  });
}

/** Clip of an activation: bounds as attributes (opset < 11) or as scalar initializers. */
export function clip(n: NodeContext): Step {
  const v = n.need(0);
  if (v.kind !== 'act') n.fail('clipping a constant is not supported');
  n.output(v);
  let lo: number | undefined;
  let hi: number | undefined;
  if (n.opset < 11) {
    lo = n.attrs.min == null ? undefined : n.num('min', 0);
    hi = n.attrs.max == null ? undefined : n.num('max', 0);
  } else {
    const bound = (i: number): number | undefined => {
      if (!n.present(i)) return undefined;
      const t = n.consts.get(n.ins[i]);
      if (!t) n.fail(`bound '${n.ins[i]}' must be an initializer`);
      const vals = tensorToFloatOrInts(t!, n.label);
      if (vals.length !== 1) n.fail(`bound '${n.ins[i]}' must be a scalar, has ${vals.length} values`);
      return vals[0];
    };
    lo = bound(1);
    hi = bound(2);
  }
  return n.step((env) => {
    const x = n.actAt(env, 0);
    let y: tf.Tensor;
    if (lo !== undefined && hi !== undefined && lo <= hi) y = tf.clipByValue(x, lo, hi);
    else {
      y = x;
      if (lo !== undefined) y = tf.maximum(y, lo);
      if (hi !== undefined) y = tf.minimum(y, hi);
      if (lo === undefined && hi === undefined) y = tf.clone(x);
    }
    return { kind: 'act', t: y as tf.Tensor4D };
  });
}

function broadcastShape(a: number[], b: number[], fail: (m: string) => never): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) fail(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Channel count of act ⊕ act or act ⊕ const (NCHW broadcasting), or a clear error. */
function elementwiseChannels(a: Info, b: Info, fail: (m: string) => never): number | null {
  const ch = (v: Info): number | null => {
    if (v.kind === 'act') return v.c;
    if (v.shape.length > 4) fail(`a constant of shape [${v.shape}] cannot broadcast against 4-D activations`);
    return v.shape.length >= 3 ? v.shape[v.shape.length - 3] : 1;
  };
  const ca = ch(a);
  const cb = ch(b);
  if (ca != null && cb != null && ca !== cb && ca !== 1 && cb !== 1) fail(`channel counts ${ca} and ${cb} do not broadcast`);
  const actC = a.kind === 'act' ? a.c : (b as { c: number | null }).c;
  if (a.kind === 'act' && b.kind === 'act') return ca == null || cb == null ? null : Math.max(ca, cb);
  const constC = a.kind === 'const' ? ca : cb;
  if (actC == null) return null;
  return constC != null && constC > actC ? constC : actC;
}
