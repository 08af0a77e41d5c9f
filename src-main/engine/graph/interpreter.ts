/**
 * ONNX graph → differentiable tfjs function, and trained weights → a copy of the same ONNX graph.
 *
 * - Supports exactly the operators of supported-ops.json (default ONNX domain), with ONNX attribute semantics;
 *   any other operator is named in a clear error.
 * - NCHW at the interface, NHWC inside (faster in tfjs): one transpose at the input and one at the output; Conv
 *   weights are held as HWIO variables (transposed once at load, and back on write).
 * - Every FLOAT initializer becomes a trainable tf.Variable (in the graph's initializer order), except Clip bounds,
 *   which are constants; other initializers (integers, float16, double) stay constants.
 * - toOnnx() re-decodes the source bytes and replaces only the initializers whose values changed, so a round trip
 *   without training leaves every weight's bytes as they were.
 * - Shapes are checked at load (channel counts through the graph) and at run time (node-by-node errors).
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import {
  DataType, decodeModel, encodeModel, getMetadata, graphInputs, graphOutputs, nodeAttributes, opsetVersion,
  setTensorFloat32, tensorDims, tensorToFloat32, tensorToInts, oneLine,
  type AttributeValue, type ModelProto, type NodeProto, type TensorProto,
} from './onnx-file.ts';
import type { TrainableNetwork } from './trainable-network.ts';
import supportedOps from './supported-ops.json' with { type: 'json' };
import { conv2d, constToNhwc, depthToSpace, instanceNorm, nhwcAxis, resolvePads, type ConvSpec } from './nhwc-ops.ts';
import { registerGradientOverrides } from '../tfjs/kernels/gradients.ts';

export const SUPPORTED_OPS: readonly string[] = supportedOps.ops;
const SUPPORTED = new Set(SUPPORTED_OPS);
const DEFAULT_SIZE_MULTIPLE = 16;

/** A TrainableNetwork interpreted from an ONNX graph, with what the trainer may want to know about it. */
export interface OnnxTrainableNetwork extends TrainableNetwork {
  /** The ONNX initializer name of each entry of `variables` (same order). */
  readonly variableNames: readonly string[];
  /** Graph input and output names. */
  readonly inputName: string;
  readonly outputName: string;
  /** Channel count of the input (C of NCHW) and of the output, where the graph fixes them. */
  readonly inputChannels: number | null;
  readonly outputChannels: number | null;
  /** The model's metadata_props. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface LoadOptions {
  /** Label for error messages (default: the file's base name, or `name` for bytes). */
  label?: string;
}

/** Thrown for every model problem the interpreter finds (unsupported operator, bad shapes, bad attributes). */
export class OnnxGraphError extends Error {
  override name = 'OnnxGraphError';
}

// ---- static analysis -----------------------------------------------------------------------------------

type Layout = 'onnx' | 'hwio';

/** How an initializer is held at run time. */
interface InitSlot {
  name: string;
  tensor: TensorProto;
  dims: number[];
  trainable: boolean;
  /** Layout of the tf tensor: 'hwio' for weights used only as Conv filters. */
  layout: Layout;
}

/** What the analysis knows about a value. */
type Info =
  | { kind: 'act'; c: number | null }
  | { kind: 'const'; shape: number[] };

type Val =
  | { kind: 'act'; t: tf.Tensor4D }
  | { kind: 'const'; t: tf.Tensor; layout: Layout };

type Step = (env: Map<string, Val>) => void;

let variableSerial = 0;

/**
 * Load an ONNX model (bytes or a file path) as a TrainableNetwork. Initialise the tfjs backend first
 * (tfjs/backend.ts: initTrainingBackend) so that the variables live on it.
 */
export function loadTrainableNetwork(source: Uint8Array | string, name: string, options: LoadOptions = {}): OnnxTrainableNetwork {
  let bytes: Uint8Array;
  let label: string;
  if (typeof source === 'string') {
    label = options.label ?? path.basename(source);
    try {
      bytes = new Uint8Array(readFileSync(source));
    } catch (e) {
      throw new OnnxGraphError(`${label}: cannot read model file (${oneLine(e)})`);
    }
  } else {
    label = options.label ?? name;
    bytes = source.slice();
  }
  registerGradientOverrides();
  const model = decodeModel(bytes, label);
  return new OnnxNetwork(name, label, bytes, model);
}

class OnnxNetwork implements OnnxTrainableNetwork {
  readonly variables: tf.Variable[] = [];
  readonly variableNames: string[] = [];
  readonly sizeMultiple: number;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputChannels: number | null;
  readonly outputChannels: number | null;
  readonly metadata: Readonly<Record<string, string>>;

  private readonly slots: InitSlot[] = [];
  private readonly slotTensors = new Map<string, { t: tf.Tensor; layout: Layout }>();
  private readonly steps: Step[] = [];
  private disposed = false;

  constructor(readonly name: string, private readonly label: string, private readonly bytes: Uint8Array, model: ModelProto) {
    const graph = model.graph ?? {};
    const nodes = graph.node ?? [];
    this.metadata = getMetadata(model);
    this.sizeMultiple = parseSizeMultiple(this.metadata.size_multiple, label);

    // 1. operators
    const unsupported = [...new Set(nodes.filter((n) => !isSupported(n)).map((n) => opLabel(n)))];
    if (unsupported.length > 0) {
      const ops = unsupported.map((o) => `'${o}'`).join(', ');
      throw new OnnxGraphError(
        `${label} uses the operator${unsupported.length > 1 ? 's' : ''} ${ops}, which NeurMAP Studio's trainer does not support; supported: ${SUPPORTED_OPS.join(', ')}`,
      );
    }
    const opset = opsetVersion(model) ?? 17;

    // 2. input and output
    const inputs = graphInputs(model);
    const outputs = graphOutputs(model);
    if (inputs.length !== 1) throw new OnnxGraphError(`${label}: expected exactly one graph input, found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
    if (outputs.length !== 1) throw new OnnxGraphError(`${label}: expected exactly one graph output, found ${outputs.length} (${outputs.map((o) => o.name).join(', ')})`);
    const input = inputs[0];
    if (input.elemType !== DataType.FLOAT) throw new OnnxGraphError(`${label}: input '${input.name}' must be float32 (element type ${input.elemType})`);
    if (input.shape && input.shape.length !== 4) throw new OnnxGraphError(`${label}: input '${input.name}' must be 4-D NCHW, declared [${input.shape.join(', ')}]`);
    this.inputName = input.name;
    this.outputName = outputs[0].name;
    const c = input.shape?.[1];
    this.inputChannels = typeof c === 'number' && c > 0 ? c : null;

    // 3. order and liveness
    const inits = new Map<string, TensorProto>();
    for (const t of graph.initializer ?? []) if (t.name) inits.set(t.name, t);
    const ordered = topoSort(nodes, new Set([this.inputName, ...inits.keys()]), label);
    const live = liveNodes(ordered, this.outputName, label);

    // 4. initializer slots: which become variables, in which layout
    const uses = new Map<string, Array<{ op: string; index: number }>>();
    for (const n of live) (n.input ?? []).forEach((v, index) => {
      if (inits.has(v)) (uses.get(v) ?? uses.set(v, []).get(v)!).push({ op: n.opType ?? '', index });
    });
    for (const t of graph.initializer ?? []) {
      const nm = t.name ?? '';
      const u = uses.get(nm);
      if (!u) continue; // unused by the live graph: left as it is in the file
      const isFloat = (t.dataType ?? DataType.FLOAT) === DataType.FLOAT;
      const clipBound = u.every((x) => x.op === 'Clip' && x.index > 0);
      const convWeight = u.every((x) => x.op === 'Conv' && x.index === 1) && tensorDims(t).length === 4;
      this.slots.push({ name: nm, tensor: t, dims: tensorDims(t), trainable: isFloat && !clipBound, layout: convWeight ? 'hwio' : 'onnx' });
    }

    // 5. compile: analysis + steps (the analysis throws clear errors before any tensor is made)
    const info = new Map<string, Info>();
    info.set(this.inputName, { kind: 'act', c: this.inputChannels });
    for (const s of this.slots) info.set(s.name, { kind: 'const', shape: s.dims });
    const constValues = new Map<string, TensorProto>(this.slots.map((s) => [s.name, s.tensor]));
    const fusion = planActivationFusion(live, this.outputName);
    for (const n of live) this.steps.push(compileNode(n, info, constValues, opset, label, fusion));
    const outInfo = info.get(this.outputName);
    if (!outInfo || outInfo.kind !== 'act') throw new OnnxGraphError(`${label}: output '${this.outputName}' does not depend on the input`);
    this.outputChannels = outInfo.c;
    const declaredOut = outputs[0].shape;
    if (declaredOut && declaredOut.length !== 4) throw new OnnxGraphError(`${label}: output '${this.outputName}' must be 4-D NCHW, declared [${declaredOut.join(', ')}]`);
    if (declaredOut && typeof declaredOut[1] === 'number' && declaredOut[1] > 0 && outInfo.c != null && declaredOut[1] !== outInfo.c) {
      throw new OnnxGraphError(`${label}: output '${this.outputName}' is declared with ${declaredOut[1]} channels but the graph computes ${outInfo.c}`);
    }

    // 6. tensors (only now: nothing to free if the checks above fail)
    try {
      for (const s of this.slots) {
        const data = tensorToFloatOrInts(s.tensor, label);
        let t: tf.Tensor = tf.tensor(data, s.dims, data instanceof Float32Array ? 'float32' : 'int32');
        if (s.layout === 'hwio') {
          const hwio = tf.transpose(t, [2, 3, 1, 0]);
          t.dispose();
          t = hwio;
        }
        if (s.trainable) {
          const v = tf.variable(t, true, `${name}/${s.name}#${++variableSerial}`);
          t.dispose();
          this.variables.push(v);
          this.variableNames.push(s.name);
          this.slotTensors.set(s.name, { t: v, layout: s.layout });
        } else {
          this.slotTensors.set(s.name, { t, layout: s.layout });
        }
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  apply(input: tf.Tensor4D): tf.Tensor4D {
    if (this.disposed) throw new Error(`${this.name}: network was disposed`);
    this.checkInput(input);
    return tf.tidy(() => {
      const env = new Map<string, Val>();
      for (const [nm, s] of this.slotTensors) env.set(nm, { kind: 'const', t: s.t, layout: s.layout });
      const x = input.dtype === 'float32' ? input : tf.cast(input, 'float32');
      env.set(this.inputName, { kind: 'act', t: tf.transpose(x, [0, 2, 3, 1]) });
      for (const step of this.steps) step(env);
      const out = env.get(this.outputName);
      if (!out || out.kind !== 'act') throw new OnnxGraphError(`${this.label}: output '${this.outputName}' was not computed`);
      return tf.transpose(out.t, [0, 3, 1, 2]);
    });
  }

  private checkInput(input: tf.Tensor): void {
    const what = `${this.name}: input [${input.shape.join('×')}]`;
    if (input.rank !== 4) throw new OnnxGraphError(`${what} must be 4-D NCHW`);
    // Only the channels are checked against the declaration: exporters often fix the batch (and sometimes the
    // size) of the example input, while every supported operator is independent of both; a graph that really
    // needs a size fails in the node that needs it, with that node named.
    if (this.inputChannels != null && input.shape[1] !== this.inputChannels) {
      throw new OnnxGraphError(`${what}: channels must be ${this.inputChannels} (model ${this.label})`);
    }
    const [, , h, w] = input.shape;
    if (h % this.sizeMultiple !== 0 || w % this.sizeMultiple !== 0) {
      throw new OnnxGraphError(`${what}: height and width must be multiples of ${this.sizeMultiple}`);
    }
  }

  toOnnx(): Uint8Array {
    if (this.disposed) throw new Error(`${this.name}: network was disposed`);
    const model = decodeModel(this.bytes, this.label);
    const byName = new Map<string, TensorProto>();
    for (const t of model.graph?.initializer ?? []) if (t.name) byName.set(t.name, t);
    this.variables.forEach((v, i) => {
      const nm = this.variableNames[i];
      const slot = this.slotTensors.get(nm)!;
      let values: Float32Array;
      if (slot.layout === 'hwio') {
        const oihw = tf.transpose(v, [3, 2, 0, 1]);
        values = oihw.dataSync() as Float32Array;
        oihw.dispose();
      } else {
        values = v.dataSync() as Float32Array;
      }
      const target = byName.get(nm)!;
      if (!sameBits(values, tensorToFloat32(target))) setTensorFloat32(target, values);
    });
    return encodeModel(model);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const { t } of this.slotTensors.values()) t.dispose();
    this.slotTensors.clear();
    this.variables.length = 0;
  }
}

// ---- compilation of one node -----------------------------------------------------------------------------

function compileNode(n: NodeProto, info: Map<string, Info>, consts: Map<string, TensorProto>, opset: number, label: string, fusion: ActivationFusion): Step {
  const op = n.opType ?? '';
  const nodeName = n.name || `${op}→${(n.output ?? [])[0] ?? '?'}`;
  const where = `${label}: node '${nodeName}' (${op})`;
  const fail = (msg: string): never => {
    throw new OnnxGraphError(`${where}: ${msg}`);
  };
  const attrs = nodeAttributes(n);
  const ins = (n.input ?? []);
  const outs = (n.output ?? []);
  if (outs.length !== 1) fail(`expected one output, found ${outs.length}`);
  const out = outs[0];
  const present = (i: number) => i < ins.length && ins[i] !== '';
  const need = (i: number): Info => {
    if (!present(i)) fail(`input ${i} is missing`);
    const v = info.get(ins[i]);
    if (!v) fail(`input '${ins[i]}' is not defined before this node`);
    return v!;
  };
  const act = (i: number): { c: number | null } => {
    const v = need(i);
    if (v.kind !== 'act') fail(`input '${ins[i]}' must be an activation computed from the graph input, not a constant`);
    return v as { kind: 'act'; c: number | null };
  };
  const constShape = (i: number): number[] => {
    const v = need(i);
    if (v.kind !== 'const') fail(`input '${ins[i]}' must be a constant (initializer)`);
    return (v as { kind: 'const'; shape: number[] }).shape;
  };
  const wrap = (f: (env: Map<string, Val>) => Val): Step => (env) => {
    let v: Val;
    try {
      v = f(env);
    } catch (e) {
      if (e instanceof OnnxGraphError) throw e;
      const shapes = ins.filter(Boolean).map((i) => `${i} [${env.get(i)?.t.shape.join('×') ?? '?'}]`).join(', ');
      throw new OnnxGraphError(`${where} failed on inputs ${shapes}: ${oneLine(e)}`);
    }
    env.set(out, v);
  };
  const getAct = (env: Map<string, Val>, i: number): tf.Tensor4D => (env.get(ins[i]) as { t: tf.Tensor4D }).t;
  const getConst = (env: Map<string, Val>, i: number): { t: tf.Tensor; layout: Layout } => env.get(ins[i]) as { t: tf.Tensor; layout: Layout };
  const onnxLayout = (c: { t: tf.Tensor; layout: Layout }): tf.Tensor => (c.layout === 'hwio' ? tf.transpose(c.t, [3, 2, 0, 1]) : c.t);

  if (fusion.aliases.has(n)) {
    // ReLU / LeakyReLU fused into the Conv that produces its input (that Conv's only consumer).
    info.set(out, need(0));
    return (env) => env.set(out, env.get(ins[0])!);
  }

  switch (op) {
    case 'Identity': {
      info.set(out, need(0));
      return (env) => env.set(out, env.get(ins[0])!);
    }

    case 'Relu': case 'Sigmoid': case 'Tanh': case 'LeakyRelu': {
      const v = need(0);
      info.set(out, v);
      const alpha = op === 'LeakyRelu' ? numAttr(attrs.alpha, 0.01, fail, 'alpha') : 0;
      const f = (t: tf.Tensor): tf.Tensor => {
        switch (op) {
          case 'Relu': return tf.relu(t);
          case 'Sigmoid': return tf.sigmoid(t);
          case 'Tanh': return tf.tanh(t);
          default: return tf.leakyRelu(t, alpha);
        }
      };
      return wrap((env) => {
        const x = env.get(ins[0])!;
        return x.kind === 'act' ? { kind: 'act', t: f(x.t) as tf.Tensor4D } : { kind: 'const', t: f(onnxLayout(x)), layout: 'onnx' };
      });
    }

    case 'Add': case 'Sub': case 'Mul': {
      const a = need(0);
      const b = need(1);
      const f = op === 'Add' ? tf.add : op === 'Sub' ? tf.sub : tf.mul;
      if (a.kind === 'const' && b.kind === 'const') {
        info.set(out, { kind: 'const', shape: broadcastShape(a.shape, b.shape, fail) });
        return wrap((env) => ({ kind: 'const', t: f(onnxLayout(getConst(env, 0)), onnxLayout(getConst(env, 1))), layout: 'onnx' }));
      }
      info.set(out, { kind: 'act', c: elementwiseChannels(a, b, fail) });
      return wrap((env) => {
        const side = (i: number): tf.Tensor => {
          const v = env.get(ins[i])!;
          return v.kind === 'act' ? v.t : constToNhwc(onnxLayout(v));
        };
        return { kind: 'act', t: f(side(0), side(1)) as tf.Tensor4D };
      });
    }

    case 'Clip': {
      const v = need(0);
      if (v.kind !== 'act') fail('clipping a constant is not supported');
      info.set(out, v);
      let lo: number | undefined;
      let hi: number | undefined;
      if (opset < 11) {
        lo = attrs.min == null ? undefined : numAttr(attrs.min, 0, fail, 'min');
        hi = attrs.max == null ? undefined : numAttr(attrs.max, 0, fail, 'max');
      } else {
        const bound = (i: number): number | undefined => {
          if (!present(i)) return undefined;
          const t = consts.get(ins[i]);
          if (!t) fail(`bound '${ins[i]}' must be an initializer`);
          const vals = tensorToFloatOrInts(t!, label);
          if (vals.length !== 1) fail(`bound '${ins[i]}' must be a scalar, has ${vals.length} values`);
          return vals[0];
        };
        lo = bound(1);
        hi = bound(2);
      }
      return wrap((env) => {
        const x = getAct(env, 0);
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

    case 'Concat': {
      if (attrs.axis == null) fail("attribute 'axis' is required");
      const axis = numAttr(attrs.axis, 1, fail, 'axis');
      const parts = ins.map((_, i) => need(i));
      if (parts.length === 0) fail('no inputs');
      if (parts.every((p) => p.kind === 'const')) {
        const shapes = parts.map((p) => (p as { shape: number[] }).shape);
        const r = shapes[0].length;
        const ax = axis < 0 ? axis + r : axis;
        const shape = shapes[0].slice();
        shape[ax] = shapes.reduce((s, sh) => s + sh[ax], 0);
        info.set(out, { kind: 'const', shape });
        return wrap((env) => ({ kind: 'const', t: tf.concat(ins.map((_, i) => onnxLayout(getConst(env, i))), ax), layout: 'onnx' }));
      }
      let nax = 0;
      try {
        nax = nhwcAxis(axis);
      } catch (e) {
        fail(oneLine(e));
      }
      let c: number | null = 0;
      for (const p of parts) {
        if (p.kind === 'const' && p.shape.length !== 4) fail(`a constant input of rank ${p.shape.length} cannot be concatenated with 4-D activations`);
        const pc = p.kind === 'act' ? p.c : p.shape[1];
        if (nax === 3) c = c == null || pc == null ? null : c + pc;
        else if (c === 0) c = pc;
        else if (c != null && pc != null && c !== pc) fail(`inputs have ${c} and ${pc} channels; concatenating along axis ${axis} needs equal channels`);
      }
      info.set(out, { kind: 'act', c });
      return wrap((env) => {
        const ts = ins.map((nm) => {
          const v = env.get(nm)!;
          return v.kind === 'act' ? v.t : constToNhwc(onnxLayout(v));
        });
        return { kind: 'act', t: tf.concat(ts, nax) as tf.Tensor4D };
      });
    }

    case 'DepthToSpace': {
      const a = act(0);
      const b = numAttr(attrs.blocksize, NaN, fail, 'blocksize');
      if (!Number.isInteger(b) || b < 1) fail(`blocksize must be a positive integer, got ${attrs.blocksize}`);
      const mode = attrs.mode == null ? 'DCR' : String(attrs.mode).toUpperCase();
      if (mode !== 'DCR' && mode !== 'CRD') fail(`mode '${mode}' is not DCR or CRD`);
      if (a.c != null && a.c % (b * b) !== 0) fail(`input has ${a.c} channels, not a multiple of blocksize² = ${b * b}`);
      info.set(out, { kind: 'act', c: a.c == null ? null : a.c / (b * b) });
      return wrap((env) => {
        const x = getAct(env, 0);
        if (x.shape[3] % (b * b) !== 0) fail(`input has ${x.shape[3]} channels, not a multiple of blocksize² = ${b * b}`);
        return { kind: 'act', t: depthToSpace(x, b, mode as 'DCR' | 'CRD') };
      });
    }

    case 'InstanceNormalization': {
      const a = act(0);
      const s = constShape(1);
      const bb = constShape(2);
      const eps = attrs.epsilon == null ? 1e-5 : numAttr(attrs.epsilon, 1e-5, fail, 'epsilon');
      const count = (sh: number[]) => sh.reduce((x, y) => x * y, 1);
      if (s.length !== 1 || bb.length !== 1) fail(`scale and B must be 1-D, are [${s}] and [${bb}]`);
      if (a.c != null && (count(s) !== a.c || count(bb) !== a.c)) fail(`scale [${s}] and B [${bb}] do not match the input's ${a.c} channels`);
      info.set(out, { kind: 'act', c: a.c ?? s[0] });
      return wrap((env) => {
        const x = getAct(env, 0);
        if (x.shape[3] !== s[0]) fail(`input has ${x.shape[3]} channels, scale has ${s[0]}`);
        return { kind: 'act', t: instanceNorm(x, onnxLayout(getConst(env, 1)), onnxLayout(getConst(env, 2)), eps) };
      });
    }

    case 'Conv': {
      const a = act(0);
      const w = constShape(1);
      if (w.length !== 4) fail(`only 2-D convolutions are supported (weight has shape [${w}])`);
      const [co, ci, kh, kw] = w;
      const group = attrs.group == null ? 1 : numAttr(attrs.group, 1, fail, 'group');
      if (group !== 1) fail(`group=${group}: NeurMAP Studio's trainer supports Conv with group=1 only`);
      if (a.c != null && a.c !== ci) fail(`weight [${w.join(', ')}] expects ${ci} input channels, but input '${ins[0]}' has ${a.c}`);
      if (present(2)) {
        const bs = constShape(2);
        if (bs.length !== 1 || bs[0] !== co) fail(`bias shape [${bs}] does not match ${co} output channels`);
      }
      const ks = intsAttr(attrs.kernel_shape, [kh, kw], fail, 'kernel_shape');
      if (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw) fail(`kernel_shape [${ks}] does not match weight [${w}]`);
      const strides = intsAttr(attrs.strides, [1, 1], fail, 'strides');
      const dilations = intsAttr(attrs.dilations, [1, 1], fail, 'dilations');
      const pads = intsAttr(attrs.pads, [0, 0, 0, 0], fail, 'pads');
      if (strides.length !== 2 || dilations.length !== 2 || pads.length !== 4) fail('strides, dilations and pads must be for 2 spatial axes');
      if ([...strides, ...dilations].some((v) => v < 1) || pads.some((v) => v < 0)) fail('strides and dilations must be ≥ 1 and pads ≥ 0');
      const autoPad = attrs.auto_pad == null || attrs.auto_pad === '' ? 'NOTSET' : String(attrs.auto_pad);
      if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) fail(`auto_pad '${autoPad}' is not supported`);
      const spec: ConvSpec = {
        strides: [strides[0], strides[1]], dilations: [dilations[0], dilations[1]],
        pads: [pads[0], pads[1], pads[2], pads[3]], autoPad: autoPad as ConvSpec['autoPad'], kernel: [kh, kw],
      };
      info.set(out, { kind: 'act', c: co });
      const hasBias = present(2);
      const fused = fusion.convs.get(n);
      return wrap((env) => {
        const x = getAct(env, 0);
        if (x.shape[3] !== ci) fail(`weight expects ${ci} input channels, input has ${x.shape[3]}`);
        const wc = getConst(env, 1);
        const filter = (wc.layout === 'hwio' ? wc.t : tf.transpose(wc.t, [2, 3, 1, 0])) as tf.Tensor4D;
        const bias = hasBias ? (onnxLayout(getConst(env, 2)) as tf.Tensor1D) : null;
        const [, h, wd] = x.shape;
        const [pt, pb, pl, pr] = resolvePads(spec, h, wd);
        if (h + pt + pb < (kh - 1) * spec.dilations[0] + 1 || wd + pl + pr < (kw - 1) * spec.dilations[1] + 1) {
          fail(`input ${h}×${wd} is smaller than the ${kh}×${kw} kernel (with padding and dilation)`);
        }
        return { kind: 'act', t: conv2d(x, filter, bias, spec, fused?.activation ?? 'linear', fused?.alpha ?? 0) };
      });
    }
  }
  return fail(`operator '${op}' is not implemented`);
}

// ---- helpers ---------------------------------------------------------------------------------------------

interface ActivationFusion {
  /** Conv nodes that apply an activation themselves. */
  convs: Map<NodeProto, { activation: 'relu' | 'leakyrelu'; alpha: number }>;
  /** The activation nodes absorbed into their Conv (run as aliases). */
  aliases: Set<NodeProto>;
}

/** Conv → Relu / LeakyRelu (α ≥ 0) pairs where the activation is the Conv output's only consumer. */
function planActivationFusion(live: NodeProto[], graphOutput: string): ActivationFusion {
  const consumers = new Map<string, NodeProto[]>();
  for (const n of live) for (const i of n.input ?? []) if (i) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n);
  const plan: ActivationFusion = { convs: new Map(), aliases: new Set() };
  for (const n of live) {
    if (n.opType !== 'Conv' || (n.domain ?? '') !== '') continue;
    const out = (n.output ?? [])[0];
    const cs = consumers.get(out) ?? [];
    if (!out || out === graphOutput || cs.length !== 1) continue;
    const next = cs[0];
    if ((next.domain ?? '') !== '' || (next.input ?? []).length !== 1) continue;
    if (next.opType === 'Relu') {
      plan.convs.set(n, { activation: 'relu', alpha: 0 });
      plan.aliases.add(next);
    } else if (next.opType === 'LeakyRelu') {
      const a = nodeAttributes(next).alpha;
      const alpha = a == null ? 0.01 : a;
      if (typeof alpha === 'number' && alpha >= 0) {
        plan.convs.set(n, { activation: 'leakyrelu', alpha });
        plan.aliases.add(next);
      }
    }
  }
  return plan;
}

function isSupported(n: NodeProto): boolean {
  const domain = n.domain ?? '';
  return (domain === '' || domain === 'ai.onnx') && SUPPORTED.has(n.opType ?? '');
}

function opLabel(n: NodeProto): string {
  const d = n.domain ?? '';
  return d && d !== 'ai.onnx' ? `${d}.${n.opType}` : n.opType ?? '(no op type)';
}

function parseSizeMultiple(v: string | undefined, label: string): number {
  if (v == null || v.trim() === '') return DEFAULT_SIZE_MULTIPLE;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 1) throw new OnnxGraphError(`${label}: metadata size_multiple '${v}' is not a positive integer`);
  return n;
}

function numAttr(v: AttributeValue | undefined, fallback: number, fail: (m: string) => never, nm: string): number {
  if (v == null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`attribute '${nm}' must be a number`);
  return v;
}

function intsAttr(v: AttributeValue | undefined, fallback: number[], fail: (m: string) => never, nm: string): number[] {
  if (v == null) return fallback;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) return fail(`attribute '${nm}' must be a list of integers`);
  return v as number[];
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

function tensorToFloatOrInts(t: TensorProto, label: string): Float32Array | Int32Array {
  const type = t.dataType ?? DataType.FLOAT;
  try {
    if (type === DataType.FLOAT || type === DataType.DOUBLE || type === DataType.FLOAT16) return tensorToFloat32(t);
    if (type === DataType.INT64 || type === DataType.INT32) return Int32Array.from(tensorToInts(t));
  } catch (e) {
    throw new OnnxGraphError(`${label}: initializer '${t.name}': ${oneLine(e)}`);
  }
  throw new OnnxGraphError(`${label}: initializer '${t.name}' has data type ${type}, which the trainer does not read`);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Nodes in an order where every input is computed first (the file's order when it already is). */
function topoSort(nodes: NodeProto[], available: Set<string>, label: string): NodeProto[] {
  const have = new Set(available);
  const done = new Set<NodeProto>();
  const out: NodeProto[] = [];
  let progress = true;
  while (out.length < nodes.length && progress) {
    progress = false;
    for (const n of nodes) {
      if (done.has(n)) continue;
      if ((n.input ?? []).every((i) => i === '' || have.has(i))) {
        out.push(n);
        done.add(n);
        for (const o of n.output ?? []) have.add(o);
        progress = true;
      }
    }
  }
  if (out.length < nodes.length) {
    const stuck = nodes.find((n) => !done.has(n))!;
    const missing = (stuck.input ?? []).filter((i) => i !== '' && !have.has(i));
    throw new OnnxGraphError(`${label}: node '${stuck.name || stuck.opType}' reads '${missing.join("', '")}', which no node, initializer or input defines (or the graph has a cycle)`);
  }
  return out;
}

/** The nodes the output depends on, in order. */
function liveNodes(ordered: NodeProto[], output: string, label: string): NodeProto[] {
  const producer = new Map<string, NodeProto>();
  for (const n of ordered) for (const o of n.output ?? []) producer.set(o, n);
  if (!producer.has(output)) throw new OnnxGraphError(`${label}: no node computes the output '${output}'`);
  const needed = new Set<NodeProto>();
  const stack = [output];
  while (stack.length) {
    const v = stack.pop()!;
    const n = producer.get(v);
    if (!n || needed.has(n)) continue;
    needed.add(n);
    for (const i of n.input ?? []) if (i) stack.push(i);
  }
  return ordered.filter((n) => needed.has(n));
}
