/** Operators with learned weights: Conv (2-D, group 1, with a fused ReLU / LeakyReLU) and InstanceNormalization. */
import * as tf from '@tensorflow/tfjs';
import { conv2d, instanceNorm, resolvePads, type ConvSpec } from '../nhwc-ops.ts';
import { onnxLayout, type NodeContext, type Step } from './context.ts';

export function conv(n: NodeContext): Step {
  const a = n.act(0);
  const w = n.constShape(1);
  if (w.length !== 4) n.fail(`only 2-D convolutions are supported (weight has shape [${w}])`);
  const [co, ci, kh, kw] = w;
  const group = n.attrs.group == null ? 1 : n.num('group', 1);
  if (group !== 1) n.fail(`group=${group}: NeurMAP Studio's trainer supports Conv with group=1 only`);
  if (a.c != null && a.c !== ci) n.fail(`weight [${w.join(', ')}] expects ${ci} input channels, but input '${n.ins[0]}' has ${a.c}`);
  if (n.present(2)) {
    const bs = n.constShape(2);
    if (bs.length !== 1 || bs[0] !== co) n.fail(`bias shape [${bs}] does not match ${co} output channels`);
  }
  const ks = n.ints('kernel_shape', [kh, kw]);
  if (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw) n.fail(`kernel_shape [${ks}] does not match weight [${w}]`);
  const strides = n.ints('strides', [1, 1]);
  const dilations = n.ints('dilations', [1, 1]);
  const pads = n.ints('pads', [0, 0, 0, 0]);
  if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4) n.fail('strides, dilations and pads must be for 2 spatial axes');
  if ([...strides, ...dilations].some((v) => v < 1) || pads.some((v) => v < 0)) n.fail('strides and dilations must be ≥ 1 and pads ≥ 0');
  const autoPad = n.attrs.auto_pad == null || n.attrs.auto_pad === '' ? 'NOTSET' : String(n.attrs.auto_pad);
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) n.fail(`auto_pad '${autoPad}' is not supported`);
  const spec: ConvSpec = {
    strides: [strides[0], strides[1]], dilations: [dilations[0], dilations[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]], autoPad: autoPad as ConvSpec['autoPad'], kernel: [kh, kw],
  };
  n.output({ kind: 'act', c: co });
  const hasBias = n.present(2);
  const fused = n.fused;
  return n.step((env) => {
    const x = n.actAt(env, 0);
    if (x.shape[3] !== ci) n.fail(`weight expects ${ci} input channels, input has ${x.shape[3]}`);
    const wc = n.constAt(env, 1);
    const filter = (wc.layout === 'hwio' ? wc.t : tf.transpose(wc.t, [2, 3, 1, 0])) as tf.Tensor4D;
    const bias = hasBias ? (onnxLayout(n.constAt(env, 2)) as tf.Tensor1D) : null;
    const [, h, wd] = x.shape;
    const [pt, pb, pl, pr] = resolvePads(spec, h, wd);
    if (h + pt + pb < (kh - 1) * spec.dilations[0] + 1 || wd + pl + pr < (kw - 1) * spec.dilations[1] + 1) {
      n.fail(`input ${h}×${wd} is smaller than the ${kh}×${kw} kernel (with padding and dilation)`);
    }
    return { kind: 'act', t: conv2d(x, filter, bias, spec, fused?.activation ?? 'linear', fused?.alpha ?? 0) };
  });
}

export function instanceNormalization(n: NodeContext): Step {
  const a = n.act(0);
  const s = n.constShape(1);
  const bb = n.constShape(2);
  const eps = n.attrs.epsilon == null ? 1e-5 : n.num('epsilon', 1e-5);
  const count = (sh: number[]) => sh.reduce((x, y) => x * y, 1);
  if (s.length !== 1 || bb.length !== 1) n.fail(`scale and B must be 1-D, are [${s}] and [${bb}]`);
  if (a.c != null && (count(s) !== a.c || count(bb) !== a.c)) n.fail(`scale [${s}] and B [${bb}] do not match the input's ${a.c} channels`);
  n.output({ kind: 'act', c: a.c ?? s[0] });
  return n.step((env) => {
    const x = n.actAt(env, 0);
    if (x.shape[3] !== s[0]) n.fail(`input has ${x.shape[3]} channels, scale has ${s[0]}`);
    return { kind: 'act', t: instanceNorm(x, onnxLayout(n.constAt(env, 1)), onnxLayout(n.constAt(env, 2)), eps) };
  });
}
