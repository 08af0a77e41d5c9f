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
  setTensorFloat32, tensorDims, tensorToFloat32, oneLine,
  type ModelProto, type NodeProto, type TensorProto,
} from './onnx-file.ts';
import type { TrainableNetwork } from './trainable-network.ts';
import supportedOps from './supported-ops.json' with { type: 'json' };
import {
  NodeContext, OnnxGraphError, tensorToFloatOrInts, type FusedActivation, type Info, type Layout, type Step, type Val,
} from './ops/context.ts';
import { OPS } from './ops/table.ts';
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

export { OnnxGraphError };

// ---- static analysis -----------------------------------------------------------------------------------

/** How an initializer is held at run time. */
interface InitSlot {
  name: string;
  tensor: TensorProto;
  dims: number[];
  trainable: boolean;
  /** Layout of the tf tensor: 'hwio' for weights used only as Conv filters. */
  layout: Layout;
}

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

/** One node's step, from the operator table (ops/*.ts); an activation fused into its Conv runs as an alias. */
function compileNode(n: NodeProto, info: Map<string, Info>, consts: Map<string, TensorProto>, opset: number, label: string, fusion: ActivationFusion): Step {
  const node = new NodeContext(n, info, consts, opset, label, fusion.convs.get(n));
  if (fusion.aliases.has(n)) return node.alias();
  const compile = Object.hasOwn(OPS, node.op) ? OPS[node.op] : undefined;
  if (!compile) return node.fail(`operator '${node.op}' is not implemented`);
  return compile(node);
}

// ---- helpers ---------------------------------------------------------------------------------------------

interface ActivationFusion {
  /** Conv nodes that apply an activation themselves. */
  convs: Map<NodeProto, FusedActivation>;
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
